"""SMS backends: the console backend keeps codes out of INFO logs; the Alibaba Cloud adapter signs
SendSms as documented and talks HTTP (to a local server here, never elsewhere)."""
import datetime as dt
import http.server
import json
import logging
import threading
import urllib.parse

import pytest

from lms.accounts import sms

ALIYUN = {"LMS_SMS_ACCESS_KEY_ID": "testId", "LMS_SMS_ACCESS_KEY_SECRET": "testSecret",
          "LMS_SMS_SIGN_NAME": "培训平台", "LMS_SMS_TEMPLATE_CODE": "SMS_71390007"}


def test_percent_encoding_follows_rfc3986():
    assert sms.percent_encode("a b*c~d/e+") == "a%20b%2Ac~d%2Fe%2B"
    assert sms.percent_encode("培") == "%E5%9F%B9"


def test_signature_matches_a_vector_computed_by_hand():
    # Computed outside Python: the canonical query written out by hand, encoded a second time
    # with sed (% -> %25, = -> %3D, & -> %26), then
    # printf '%s' "GET&%2F&..." | openssl dgst -sha1 -hmac 'testSecret&' -binary | base64
    params = sms.sendsms_params(ALIYUN, "13800138000", "123456", nonce="45e25e9b-0a6f-4070-8c85-2956eda1b466",
                                timestamp=dt.datetime(2017, 7, 12, 2, 42, 19, tzinfo=dt.timezone.utc))
    assert sms.string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DJSON%26PhoneNumbers%3D13800138000"
        "%26RegionId%3Dcn-hangzhou%26SignName%3D%25E5%259F%25B9%25E8%25AE%25AD%25E5%25B9%25B3%25E5%258F%25B0"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466"
        "%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007"
        "%26TemplateParam%3D%257B%2522code%2522%253A%2522123456%2522%257D"
        "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25")
    assert sms.sign("testSecret", "GET", params) == "6DveQwOzasrs2VkvJgSm+0qJzzI="


def test_signature_of_the_documented_sendsms_example():
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
              "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
    assert sms.sign("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


class _FakeSendSms(http.server.BaseHTTPRequestHandler):
    requests: list = []
    answer = {"Code": "OK", "Message": "OK", "BizId": "1", "RequestId": "r"}

    def do_GET(self):  # noqa: N802
        type(self).requests.append(self.path)
        body = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_aliyun():
    _FakeSendSms.requests = []
    _FakeSendSms.answer = {"Code": "OK", "Message": "OK", "BizId": "1", "RequestId": "r"}
    server = http.server.HTTPServer(("127.0.0.1", 0), _FakeSendSms)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", _FakeSendSms
    server.shutdown()
    thread.join(timeout=5)


def test_aliyun_request_is_signed_and_carries_the_code(app, fake_aliyun):
    endpoint, handler = fake_aliyun
    cfg = {**ALIYUN, "LMS_SMS_ENDPOINT": endpoint}
    assert sms.send_aliyun(cfg, "13800138000", "654321")["Code"] == "OK"
    (path,) = handler.requests
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
    assert query["Action"] == "SendSms" and query["PhoneNumbers"] == "13800138000"
    assert json.loads(query["TemplateParam"]) == {"code": "654321"}
    assert query["SignName"] == "培训平台" and query["TemplateCode"] == "SMS_71390007"
    signature = query.pop("Signature")
    assert signature == sms.sign("testSecret", "GET", query)


def test_aliyun_refusal_raises(app, fake_aliyun):
    endpoint, handler = fake_aliyun
    handler.answer = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit"}
    with pytest.raises(sms.SmsError, match="BUSINESS_LIMIT_CONTROL"):
        sms.send_aliyun({**ALIYUN, "LMS_SMS_ENDPOINT": endpoint}, "13800138000", "654321")


def test_send_code_uses_the_configured_backend(app, fake_aliyun, monkeypatch):
    endpoint, handler = fake_aliyun
    for key, value in {**ALIYUN, "LMS_SMS_BACKEND": "aliyun", "LMS_SMS_ENDPOINT": endpoint}.items():
        monkeypatch.setitem(app.config, key, value)
    sms.send_code("13800138000", "111222")
    assert len(handler.requests) == 1


def test_console_backend_logs_the_code_only_at_debug(app, caplog, monkeypatch):
    logger = logging.getLogger("lms.sms")  # the "lms" logger does not propagate to caplog's root handler
    monkeypatch.setattr(logger, "handlers", [caplog.handler])
    with caplog.at_level(logging.INFO, logger="lms.sms"):
        sms.send_code("13800138000", "987654")
    assert "987654" not in caplog.text and "13800138000" not in caplog.text
    assert "138****8000" in caplog.text
    assert sms.outbox[-1] == ("13800138000", "987654")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="lms.sms"):
        sms.send_code("13800138000", "987655")
    assert "987655" in caplog.text
