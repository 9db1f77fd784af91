"""`paystage compliance` prints what an A2P 10DLC campaign registration asks for, from the real templates."""

from core.wording import customer_replies, customer_texts
from paystage.cli import main
from paystage.compliance import LINK, registration, sample_job


def test_the_registration_quotes_the_real_texts_a_customer_gets():
    text = registration("Granite & Co", "(415) 555-0100")
    job = sample_job("Granite & Co", "(415) 555-0100")
    assert customer_texts.consent(job, rates=True) in text
    assert customer_texts.plan_summary(job, LINK) in text
    assert customer_texts.payment_due(job, job.milestones[0], LINK) in text
    assert customer_replies.help(job) in text
    for section in ("Campaign description", "Sample messages", "How customers opt in", "Opt-out keywords",
                    "Help message", "Message frequency"):
        assert f"== {section} ==" in text
    assert "STOP" in text.split("== Opt-out keywords ==")[1] and "Msg & data rates may apply" in text


def test_paystage_compliance_prints_it_for_the_business_named(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PAYSTAGE_DATA_DIR", str(tmp_path))
    assert main(["compliance", "--business", "Tile Masters", "--phone", "(415) 555-0199"]) == 0
    out = capsys.readouterr().out
    assert "Tile Masters: Hi Dana, you will get texts from us" in out and "(415) 555-0199" in out
