"""The VietQR payload builder against the NAPAS specification's own examples.

The vectors are those of NAPAS "QR_Format_T&C_v1.0_VN_092021" §6.1, as quoted in public test suites
(a Java VietQrGeneratorTest, binhnguyenduc/vietqr-ts); the CRCs were also recomputed independently
(shared/reference/participants-and-vietqr.md §1.2). Vector 6.1.4 is a transfer to a card, which the
builder does not write, so only its CRC is checked; vector 6.1.1 as quoted has a wrong length inside,
so it too is a CRC check only.
"""

from __future__ import annotations

import pytest

from outreach.payment.vietqr import crc16_ccitt_false, transfer_payload, with_crc

NAPAS_6_1_3 = ("00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
               "62340107NPS68690819thanh toan don hang63042E2E")
NAPAS_6_1_4 = ("00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC530370454061800005802VN"
               "62340107NPS68690819thanh toan don hang6304A203")
NAPAS_6_1_1 = "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5"


def test_crc_is_ccitt_false_with_its_standard_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_napas_dynamic_transfer_to_an_account_is_reproduced_byte_for_byte():
    assert transfer_payload("970403", "0011012345678", 180_000, "thanh toan don hang", bill_number="NPS6869") == NAPAS_6_1_3


@pytest.mark.parametrize("vector", [NAPAS_6_1_1, NAPAS_6_1_3, NAPAS_6_1_4])
def test_napas_vectors_crc(vector):
    assert with_crc(vector[:-8]) == vector


@pytest.mark.parametrize("args, expected_crc", [
    # the NAPAS account example without its bill number (napas-qr's README), and subiz/vietqr's README example
    (("970403", "0011012345678", 180_000, "thanh toan don hang"), "5FAB"),
    (("970415", "0011001932418", 120_000, "ung ho lu lut"), "C15C"),
])
def test_other_published_payloads(args, expected_crc):
    assert transfer_payload(*args)[-4:] == expected_crc


def test_a_renewal_payload_reads_field_by_field():
    payload = transfer_payload("970418", "1234567890", 3_168_000, "BHXHTN 5601234567")
    assert payload == ("00020101021238540010A00000072701240006970418011012345678900208QRIBFTTA5303704540731680005802VN"
                       "62210817BHXHTN 560123456763042E7E")


def test_a_small_crc_keeps_four_digits():
    small = next(p for p in (transfer_payload("970418", "1234567890", amount, "BHXHTN 1") for amount in range(1, 5000))
                 if int(p[-4:], 16) < 0x1000)
    assert len(small.rsplit("6304", 1)[1]) == 4 and small[-4] == "0"
    assert with_crc(small[:-8]) == small


@pytest.mark.parametrize("args", [
    ("97041", "1234567890", 1000, "BHXHTN 1"),          # BIN of five digits
    ("970418", "1234-567890", 1000, "BHXHTN 1"),        # account with a dash
    ("970418", "1234567890", 0, "BHXHTN 1"),            # no amount
    ("970418", "1234567890", 1000, "Đóng BHXH tự nguyện"),  # diacritics
    ("970418", "1234567890", 1000, "BHXHTN 5601234567 0905123456"),  # 28 characters
    ("970418", "1234567890", 1000, "BHXH, TN"),         # punctuation
])
def test_values_the_specification_does_not_allow_are_refused(args):
    with pytest.raises(ValueError):
        transfer_payload(*args)
