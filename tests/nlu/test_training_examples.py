from bot.nlu.training_examples import read_examples


def test_examples_in_order_without_entity_annotations(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: ask_open_bank_account\n  examples: |\n"
        "    - mở tài khoản [Agribank](bank)\n"
        '    - mo tk [vietcombank]{"entity": "bank", "value": "Vietcombank"} o dau\n'
        "    - \n"
        "- synonym: Agribank\n  examples: |\n    - agri\n"
        "- intent: greet\n  examples: |\n    - chào em\n",
        encoding="utf-8",
    )
    assert read_examples(path) == [
        ("mở tài khoản Agribank", "ask_open_bank_account"),
        ("mo tk vietcombank o dau", "ask_open_bank_account"),
        ("chào em", "greet"),
    ]
    assert read_examples(tmp_path / "missing.yml") == []
