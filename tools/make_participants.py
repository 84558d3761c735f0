"""Generate the sample list of voluntary-insurance participants for the ``nhac-dao-han`` campaign.

Everyone in it is invented: names, personal IDs, mã số BHXH, phones and e-mail addresses
(``*.example.vn``). Only the communes and the collection-service organisations are those of the
other sample lists. The rows cover each payment mode and support group, an ID given either way,
the 120-month support cap, district offices with and without their own account, and people
without e-mail in two collection organisations' bundles and in one commune's.

Writes ``recipients/participants.xlsx`` and the blank form ``recipients/mau/mau-nguoi-tham-gia.xlsx``;
the bytes are the same on every run.

    .venv/bin/python tools/make_participants.py [RECIPIENTS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.datagen import (  # noqa: E402
    EMAIL_GUIDE,
    STT_GUIDE,
    TemplateSpec,
    fill_list_sheet,
    new_workbook,
    save_workbook,
    write_template,
)

TITLE = "DANH SÁCH NGƯỜI THAM GIA BHXH TỰ NGUYỆN SẮP ĐẾN HẠN ĐÓNG"
SUBTITLE = "(Dữ liệu hư cấu — dùng để thử chiến dịch thư nhắc đáo hạn)"
COLUMNS = [  # (header, width, stored as text)
    ("STT", 6, False),
    ("Họ và tên", 24, False),
    ("Mã số BHXH", 14, True),
    ("Số định danh cá nhân", 16, True),
    ("Số điện thoại", 14, True),
    ("Email", 28, False),
    ("Địa chỉ", 44, False),
    ("Xã/phường", 20, False),
    ("Phương thức đóng", 12, False),
    ("Mức thu nhập làm căn cứ đóng", 16, False),
    ("Đóng đến tháng", 10, True),
    ("Nhóm hỗ trợ", 18, False),
    ("Số tháng đã được hỗ trợ", 10, False),
    ("Tổ chức dịch vụ thu", 32, False),
    ("Cơ quan BHXH quản lý", 24, False),
]
PROVINCE = ", tỉnh Khánh Hòa"
PEOPLE = [
    ["Nguyễn Thị Lan", "", "056183004521", "0905 111 201", "lan.nguyen@thu.example.vn",
     "Tổ 5, Phường Vĩnh Hòa, Thành phố Nha Trang" + PROVINCE, "Phường Vĩnh Hòa", "12 tháng", 1_500_000, "12/2026",
     "", "", "Bưu điện thành phố Nha Trang", "BHXH thành phố Nha Trang"],
    ["Trần Văn Hùng", "5602345678", "056075012345", "0914 222 302", "hung.tran@thu.example.vn",
     "Thôn Tân Hải, Xã Cam Hải Đông, Huyện Cam Lâm" + PROVINCE, "Xã Cam Hải Đông", "Hằng tháng", 2_000_000,
     "12/2026", "Cận nghèo", "", "Bưu điện huyện Cam Lâm", "BHXH huyện Cam Lâm"],
    ["Lê Thị Hồng Nhung", "", "056190008765", "0935 333 403", "nhung.le@thu.example.vn",
     "Thôn Tuần Lễ, Xã Vạn Thạnh, Huyện Vạn Ninh" + PROVINCE, "Xã Vạn Thạnh", "3 tháng", 3_000_000, "01/2027",
     "", "", "Ủy ban nhân dân xã Vạn Thạnh (đại lý thu)", "BHXH tỉnh"],
    ["Phạm Minh Tuấn", "5603456789", "", "0976 444 504", "tuan.pham@thu.example.vn",
     "25 Nguyễn Trọng Kỷ, Phường Cam Lộc, Thành phố Cam Ranh" + PROVINCE, "Phường Cam Lộc", "6 tháng", 2_500_000,
     "12/2026", "Hộ nghèo", "", "Bưu điện thành phố Cam Ranh", "BHXH thành phố Cam Ranh"],
    ["Hoàng Thị Sáu", "", "056170004433", "0388 555 605", "",
     "Thôn Văn Thủy 1, Xã Cam Phước Tây, Huyện Cam Lâm" + PROVINCE, "Xã Cam Phước Tây", "12 tháng", 1_500_000,
     "12/2026", "Dân tộc thiểu số", "", "Bưu điện huyện Cam Lâm", "BHXH huyện Cam Lâm"],
    ["Đặng Quốc Bảo", "", "056095006677", "", "",
     "Thôn Trung, Xã Cam Hòa, Huyện Cam Lâm" + PROVINCE, "Xã Cam Hòa", "Hằng tháng", 1_500_000, "12/2026",
     "", "", "Bưu điện huyện Cam Lâm", "BHXH huyện Cam Lâm"],
    ["Bùi Thị Thu Hà", "", "056185002211", "0357 777 807", "",
     "Thôn Trường Lạc, Xã Vĩnh Lương, Thành phố Nha Trang" + PROVINCE, "Xã Vĩnh Lương", "6 tháng", 1_800_000,
     "01/2027", "", "", "", "BHXH thành phố Nha Trang"],
    ["Huỳnh Văn Lợi", "", "056068009988", "0868 888 908", "loi.huynh@thu.example.vn",
     "Tổ dân phố 3, Phường Ninh Hiệp, Thị xã Ninh Hòa" + PROVINCE, "Phường Ninh Hiệp", "12 tháng", 4_000_000,
     "01/2027", "Cận nghèo; Dân tộc thiểu số", "", "Bưu điện thị xã Ninh Hòa", "BHXH thị xã Ninh Hòa"],
    ["Ngô Thị Kim Oanh", "5604567890", "056179003344", "0903 999 009", "oanh.ngo@thu.example.vn",
     "12 Lạc Long Quân, Thị trấn Diên Khánh, Huyện Diên Khánh" + PROVINCE, "Thị trấn Diên Khánh", "3 tháng",
     1_500_000, "12/2026", "", 118, "Bưu điện huyện Diên Khánh", "BHXH huyện Diên Khánh"],
    ["Dương Văn Tâm", "", "056060001122", "0912 101 110", "tam.duong@thu.example.vn",
     "Thị trấn Trường Sa, Huyện Trường Sa" + PROVINCE, "Thị trấn Trường Sa", "12 tháng", 1_500_000, "12/2026",
     "Xã đảo", "", "", "BHXH huyện Trường Sa"],
    ["Võ Thị Mai", "", "056301007788", "0326 202 211", "",
     "18 Lê Hồng Phong, Phường Phước Hải, Thành phố Nha Trang" + PROVINCE, "Phường Phước Hải", "Hằng tháng",
     1_500_000, "12/2026", "", "", "Đại lý thu BHXH, BHYT phường Phước Hải", "BHXH thành phố Nha Trang"],
    ["Lâm Văn Phúc", "", "056082004466", "0799 303 312", "phuc.lam@thu.example.vn",
     "Thôn Suối Cá, Xã Khánh Thượng, Huyện Khánh Vĩnh" + PROVINCE, "Xã Khánh Thượng", "6 tháng", 1_500_000,
     "12/2026", "Dân tộc thiểu số", "", "Ủy ban nhân dân xã Khánh Thượng (đại lý thu)", "BHXH huyện Khánh Vĩnh"],
]

FORM = TemplateSpec(
    "mau-nguoi-tham-gia.xlsx", TITLE, COLUMNS,
    ["Ví dụ", "5601234567", "056183001234", "0905 123 456", "vidu@vidu.example.vn",
     "Thôn Phú Bình, Xã Diên Phú, Huyện Diên Khánh" + PROVINCE, "Xã Diên Phú", "12 tháng", 1_500_000, "12/2026", "",
     "", "Bưu điện huyện Diên Khánh", "BHXH huyện Diên Khánh"],
    [
        STT_GUIDE,
        ("Họ và tên", "Bắt buộc", "Họ tên đầy đủ, Unicode có dấu", "Thư ghi «Kính gửi: Ông/Bà» + họ tên này."),
        ("Mã số BHXH", "Một trong hai mã", "10 chữ số", "Định dạng Văn bản (Text) để giữ số 0 ở đầu."),
        ("Số định danh cá nhân", "Một trong hai mã", "12 chữ số (số căn cước)",
         "Từ 1/8/2025 thay cho mã số BHXH; có cả hai thì thư dùng số định danh."),
        ("Số điện thoại", "Không bắt buộc", "Di động 10 số", "Ghi vào nội dung chuyển khoản; không đưa vào mã QR."),
        ("Email",) + EMAIL_GUIDE,
        ("Địa chỉ", "Bắt buộc nếu không có email", "Nơi ở để gửi thư giấy", ""),
        ("Xã/phường", "Không bắt buộc", "Tên đúng danh mục, vd. Xã Diên Phú",
         "Thư giấy của người không có tổ chức dịch vụ thu được gom theo xã."),
        ("Phương thức đóng", "Bắt buộc", "1, 3, 6 hoặc 12 tháng (vd. «12 tháng», «Hằng tháng»)", ""),
        ("Mức thu nhập làm căn cứ đóng", "Bắt buộc", "Số tiền đồng/tháng, vd. 1500000",
         "Không thấp hơn chuẩn hộ nghèo khu vực nông thôn."),
        ("Đóng đến tháng", "Bắt buộc", "MM/YYYY, vd. 12/2026", "Tháng cuối cùng đã đóng."),
        ("Nhóm hỗ trợ", "Không bắt buộc", "Hộ nghèo, Cận nghèo, Dân tộc thiểu số, Xã đảo",
         "Dữ liệu nhạy cảm: chỉ dùng để tính số tiền, không in ra thư. Nhiều nhóm cách nhau bằng «;»."),
        ("Số tháng đã được hỗ trợ", "Không bắt buộc", "Số tháng", "Nhà nước hỗ trợ tối đa 120 tháng."),
        ("Tổ chức dịch vụ thu", "Không bắt buộc", "Tên tổ chức thu tiền của người này",
         "Thư giấy được gom theo tổ chức này để giao tận tay."),
        ("Cơ quan BHXH quản lý", "Không bắt buộc", "BHXH tỉnh, hoặc tên BHXH huyện",
         "Quyết định tài khoản nhận tiền và nơi gửi thư."),
    ],
)


def main(target: Path) -> None:
    workbook, sheet = new_workbook()
    fill_list_sheet(sheet, TITLE, SUBTITLE, COLUMNS, [[number, *row] for number, row in enumerate(PEOPLE, start=1)])
    save_workbook(workbook, target / "participants.xlsx")
    write_template(target / "mau" / FORM.filename, FORM)
    for path in (target / "participants.xlsx", target / "mau" / FORM.filename):
        print(path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "recipients")
