# Sourced by the scripts: environment every command of the project runs with.
# Rasa telemetry is off: nothing may leave the machine but messenger traffic.
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONDONTWRITEBYTECODE=1
