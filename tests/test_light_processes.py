"""The action server and the web app stay light: they never import Rasa's ML
stack (Rasa, TensorFlow), so each fits in well under 150 MB."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("rasa", "tensorflow", "sklearn", "rasa_sdk.cli")

PROCESSES = {
    # what `python -m bot.action_server` loads
    "action server": "import bot.action_server, rasa_sdk.executor; "
                     "rasa_sdk.executor.ActionExecutor().register_package('actions')",
    # what `python -m bot web` loads
    "web app": "import bot.web.app",
}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_process_imports_no_ml_stack(name):
    probe = (
        "import json, sys\n"
        f"{PROCESSES[name]}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'rasa', 'tensorflow', 'sklearn'})\n"
        # VmHWM: this process's peak RSS (ru_maxrss would carry over the forking parent's)
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(json.dumps({'heavy': heavy[:10], 'rss_mib': int(hwm) / 1024}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], f"{name} imports {report['heavy']}"
    assert report["rss_mib"] < 150, report
