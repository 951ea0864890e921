import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.scam_guard import ScamDetector, ScamGuard, default_detector


@pytest.mark.parametrize(
    "text, reason",
    [
        ("có người gọi bảo đọc mã OTP để nhận tiền", "codes_and_secrets"),
        ("co ng goi doi ma otp", "codes_and_secrets"),
        ("họ hỏi mật khẩu app ngân hàng của bác", "codes_and_secrets"),
        ("nó bảo đọc pass cho nó", "codes_and_secrets"),
        ("đưa mã PIN thẻ ATM cho người ta được không", "codes_and_secrets"),
        ("người ta xin số thẻ với mã xác thực", "codes_and_secrets"),
        ("họ bảo phải nộp phí trước mới được nhận trợ cấp", "fee_first"),
        ("người ta bắt cài ứng dụng VNeID mới để giữ định danh", "strange_apps"),
        ("e lỡ đọc otp cho ng lạ r", "codes_and_secrets"),
        ("chuyen tien truoc thi moi giai ngan", "fee_first"),
        ("tin nhắn gửi đường link bảo tài khoản bị khóa, bấm vào để mở khóa", "unlock_links"),
        ("bam vao link de cap nhat sinh trac hoc", "unlock_links"),
        ("có người xưng là cán bộ xã gọi cho tôi", "impersonation"),
        ("ho goi bao la nhan vien dien luc", "impersonation"),
        ("họ bắt nộp phí kích hoạt mới giải ngân", "fee_first"),
    ],
)
def test_scam_messages_are_caught(text, reason):
    assert default_detector().reason(text) == reason


@pytest.mark.parametrize(
    "text",
    [
        "mở tài khoản ngân hàng cần giấy tờ gì",
        "tra tien dien qua app the nao",
        "rút tiền ở cây ATM",
        "mã khách hàng ở đâu",
        "phí rút tiền ở ATM khác ngân hàng bao nhiêu",
        "ho so cua toi den dau roi",
        "quên mật khẩu VNeID thì lấy lại thế nào",
        "cho tôi hỏi mật khẩu eTax quên thì làm sao",
        "vneid khong nhan duoc ma kich hoat qua tin nhan",
        "nộp lệ phí trước bạ xe máy online",
        "nop le phi ho so truc tuyen bang the ngan hang",
        "ma pin chu ky so quen thi lam sao",
        # the resident's own trouble, or the question itself (issue 14)
        "app ngân hàng gửi mã OTP không về",
        "bấm vào đâu để cập nhật sinh trắc học",
        "cây ATM xung quanh đây",
        "xưng hô với cán bộ thế nào",
        "đóng phí trước mới được nhận kết quả à",
        "liên kết tài khoản ngân hàng với eTax",
        "tin nhắn báo tiền điện gửi về số nào",
        "bác muốn có người đến tận nhà hướng dẫn bác cài ứng dụng ngân hàng",
        "",
    ],
)
def test_ordinary_questions_pass(text):
    assert default_detector().reason(text) is None


def test_component_overrides_the_classifier():
    message = Message(data={TEXT: "co nguoi doi ma otp", INTENT: {"name": "ask_withdraw_cash", "confidence": 0.9}})
    ScamGuard({}).process([message])
    assert message.get(INTENT) == {"name": "report_scam", "confidence": 1.0}


def test_button_payloads_are_left_alone():
    message = Message(data={TEXT: "/ask_vneid", INTENT: {"name": "ask_vneid", "confidence": 1.0}})
    ScamGuard({}).process([message])
    assert message.get(INTENT)["name"] == "ask_vneid"


def test_terms_are_expanded_longest_first():
    detector = ScamDetector({"g": [r"^{who} hoi$"]}, {"who": ["ho", "ho va ten"]})
    assert detector.reason("ho va ten hoi") == "g"
    assert detector.reason("ho hoi") == "g"
    assert detector.reason("ai hoi") is None


def test_an_unknown_term_is_refused():
    with pytest.raises(ValueError, match="unknown term"):
        ScamDetector({"g": [r"{nobody} hoi"]}, {})
