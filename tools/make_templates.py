"""Generate the shipped DOCX templates in templates/ with outreach.letters.skeleton.

The letter is the reference công văn of BHXH tỉnh Khánh Hòa (2022), addressed to one recipient
per copy; the two appendices are the VssID guidance it attaches. The renewal letter to each
voluntary-insurance participant (campaign ``nhac-dao-han``) carries section 6 of that letter made
personal: the amount, the account, the memo in the reference letter's form, and a VietQR code.
Staff may then edit the generated files in Word; run this script again only to start over.

    .venv/bin/python tools/make_templates.py [TARGET_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from outreach.letters import write_appendix, write_skeleton

REPO = Path(__file__).resolve().parent.parent

LETTER_BODY = (
    "Nhằm thực hiện cải cách hành chính (CCHC); tăng cường thực hiện giao dịch điện tử trong lĩnh vực bảo hiểm "
    "xã hội (BHXH), bảo hiểm y tế (BHYT), bảo hiểm thất nghiệp (BHTN) theo chỉ đạo của Ủy ban nhân dân (UBND) "
    "tỉnh, để phục vụ tốt nhất đối với tổ chức, doanh nghiệp và người dân; đảm bảo công tác thu nộp BHXH, BHYT, "
    "BHTN kịp thời, an toàn đúng theo quy định. BHXH tỉnh Khánh Hòa rất mong các tổ chức, doanh nghiệp và người "
    "dân quan tâm thực hiện giao dịch điện tử trong lĩnh vực BHXH, BHYT theo các nội dung sau:",
    "1. Căn cứ pháp lý để thực hiện:",
    "- Quyết định số 06/QĐ-TTg ngày 06/01/2022 của Thủ tướng Chính phủ về phê duyệt Đề án phát triển ứng dụng dữ "
    "liệu về dân cư, định danh và xác thực điện tử phục vụ chuyển đổi số quốc gia giai đoạn 2022 – 2025, tầm nhìn "
    "đến năm 2030.",
    "- Quyết định số 241/QĐ-TTg ngày 23/02/2018 của Thủ tướng Chính phủ về việc phê duyệt đề án đẩy mạnh thanh "
    "toán qua ngân hàng đối với các dịch vụ công (DVC): Thuế, điện, nước, học phí, viện phí và chi trả các chương "
    "trình an sinh xã hội.",
    "- Nghị quyết số 02/NQ-CP ngày 01/01/2019 của Chính phủ về tiếp tục thực hiện những nhiệm vụ giải pháp chủ yếu "
    "cải thiện môi trường kinh doanh, nâng cao năng lực cạnh tranh quốc gia năm 2019 và định hướng đến năm 2021.",
    "- Quyết định số 149/QĐ-TTg ngày 22/01/2020 của Thủ tướng Chính phủ về việc phê duyệt Chiến lược tài chính "
    "toàn diện quốc gia đến năm 2025, định hướng đến năm 2030.",
    "- Công văn số 1499/UBND-KGVX ngày 01/3/2021 của UBND tỉnh về tuyên truyền, đăng ký, cài đặt và sử dụng ứng "
    "dụng VssID - BHXH số.",
    "- Công văn số 4168/UBND-KSTT ngày 17/5/2021 của UBND tỉnh về thúc đẩy cải cách thủ tục hành chính, đổi mới "
    "thực hiện cơ chế một cửa và xây dựng Chính phủ điện tử phục vụ chỉ đạo điều hành.",
    "- Công văn số 5838/UBND-KSTT ngày 01/7/2021 của UBND tỉnh về thực hiện nhiệm vụ về cung cấp DVC trực tuyến "
    "và cơ chế một cửa tại các Nghị quyết của Chính phủ.",
    "- Công văn số 6225/UBND-KGVX ngày 12/7/2021 của UBND tỉnh Khánh Hòa về việc tuyên truyền, hướng dẫn, hỗ trợ "
    "đăng ký, cài đặt và sử dụng VssID.",
    "- Quyết định số 3510/QĐ-BHXH ngày 21/11/2022 của BHXH Việt Nam về việc ban hành Quy trình đăng ký đóng, cấp "
    "thẻ BHYT đối với người chỉ tham gia BHYT trên Cổng DVC theo Quyết định số 422/QĐ-TTg ngày 04/4/2022 của Thủ "
    "tướng Chính phủ phê duyệt danh mục DVC trực tuyến tích hợp, cung cấp trên DVC quốc gia năm 2022.",
    "- Quyết định số 3511/QĐ-BHXH ngày 21/11/2022 của BHXH Việt Nam về việc ban hành Quy trình đăng ký tham gia "
    "BHXH tự nguyện trên Cổng DVC theo Quyết định số 422/QĐ-TTg ngày 04/4/2022 của Thủ tướng Chính phủ phê duyệt "
    "danh mục DVC trực tuyến tích hợp, cung cấp trên DVC quốc gia năm 2022.",
    "- Quyết định số 1231/QĐ-BHXH ngày 02/6/2022 của BHXH Việt Nam về việc ban hành DVC trực tuyến “Gia hạn thẻ "
    "BHYT theo hộ gia đình tích hợp giảm trừ mức đóng trên Cổng DVC”.",
    "- Kế hoạch số 2207/KH-BHXH ngày 12/8/2022 của BHXH Việt Nam về việc Kế hoạch triển khai cập nhật bổ sung số "
    "định danh cá nhân/căn cước công dân (ĐDCN/CCCD) của người tham gia trong cơ sở dữ liệu (CSDL) BHXH Việt Nam "
    "quản lý và cài đặt, phê duyệt, sử dụng ứng dụng VssID.",
    "- Kế hoạch số 1564/KH-BHXH ngày 28/9/2022 của BHXH tỉnh Khánh Hòa về việc Kế hoạch triển khai cập nhật bổ "
    "sung số ĐDCN/CCCD của người tham gia trong CSDL BHXH Việt Nam quản lý và cài đặt, phê duyệt, sử dụng ứng "
    "dụng VssID.",
    "- Công văn số 1147/BHXH-TST ngày 04/5/2022 của BHXH Việt Nam về việc kê khai số ĐDCN/CCCD khi nộp hồ sơ "
    "tham gia BHXH, BHYT.",
    "Văn bản này bổ sung thêm nội dung mới, quan trọng về giao dịch điện tử trong thực hiện tham gia mới, đáo hạn, "
    "điều chỉnh, thay đổi phương thức đóng BHXH tự nguyện tại Mục 7 – phần sau.",
    "2. BHXH tỉnh Khánh Hòa; BHXH các huyện, thị xã, thành phố thực hiện giao dịch điện tử theo các nội dung sau:",
    "Thực hiện tiếp nhận hồ sơ và trả kết quả giải quyết trực tuyến mức độ 4 đối với 25 TTHC đã được công bố trên "
    "Cổng DVC quốc gia, Cổng DVC trực tuyến tỉnh Khánh Hòa và Cổng DVC BHXH Việt Nam.",
    "2.1. Địa chỉ Cổng DVC quốc gia: <https://dichvucong.gov.vn/>",
    "2.2. Địa chỉ Cổng DVC BHXH Việt Nam: <https://dichvucong.baohiemxahoi.gov.vn/>",
    "2.3. Địa chỉ Cổng DVC trực tuyến tỉnh Khánh Hòa: "
    "<https://thongtin.hanhchinhcong.khanhhoa.gov.vn/trang-dich-vu-hanh-chinh-cong>",
    "2.4. Địa chỉ trang web BHXH tỉnh Khánh Hòa: <https://khanhhoa.baohiemxahoi.gov.vn/>",
    "3. Để thuận lợi trong thực hiện giao dịch với cơ quan BHXH về thu nộp BHXH, BHTN, BHYT, mọi người dân cần mở "
    "tài khoản cá nhân để giao dịch trực tuyến với cơ quan BHXH theo các nội dung sau:",
    "3.1. Thực hiện các dịch vụ về BHXH, BHYT trên Cổng DVC quốc gia:",
    "<https://dichvucong.gov.vn/p/home/dvc-trang-chu.html>",
    "3.2. Cá nhân tạo tài khoản đăng nhập vào Cổng DVC BHXH Việt Nam tại địa chỉ "
    "<https://dichvucong.baohiemxahoi.gov.vn> để có thể thực hiện các DVC về BHXH, BHYT dễ dàng, thuận lợi ở bất kỳ "
    "đâu và bất kỳ lúc nào. Cụ thể tại liên kết sau:",
    "<https://khanhhoa.baohiemxahoi.gov.vn/tintuc/video>",
    "<https://www.facebook.com/permalink.php?story_fbid=165482695123583&id=103170544688132>",
    "<https://khanhhoa.baohiemxahoi.gov.vn/vanban/Pages/default.aspx?ItemID=9593>",
    "4. Thông tin, truyền thông, tuyên truyền để người dân, người lao động hiểu và tham gia BHXH tự nguyện, BHYT "
    "hộ gia đình:",
    "Thông tin, tuyên truyền để người lao động hướng dẫn người thân, bạn bè về loại hình BHXH tự nguyện. Đảm bảo "
    "mọi người lao động (trừ người lao động thuộc nhóm tham gia BHXH bắt buộc) đều được tham gia và thụ hưởng chế "
    "độ, chính sách BHXH tự nguyện.",
    "Nội dung liên quan về chế độ, chính sách BHXH tự nguyện, BHYT hộ gia đình; thủ tục đăng ký; ... được đăng "
    "tải trên trang Web BHXH tỉnh Khánh Hòa:",
    "<https://khanhhoa.baohiemxahoi.gov.vn/Pages/default.aspx> Mục: BHXH TỰ NGUYỆN.",
    "5. Người tham gia BHXH tự nguyện lần đầu: Có thể đăng ký tham gia BHXH tự nguyện trực tuyến trên trang Web "
    "BHXH tỉnh Khánh Hòa: <https://khanhhoa.baohiemxahoi.gov.vn/Pages/default.aspx>, Mục: BHXH TỰ NGUYỆN – ĐĂNG "
    "KÝ BHXH TỰ NGUYỆN.",
    "Ngay sau khi đăng ký, cơ quan BHXH sẽ liên hệ để hướng dẫn cụ thể cho người tham gia.",
    "6. Người đã tham gia BHXH tự nguyện, khi tiếp tục tham gia (đáo hạn) có thể chuyển tiền cho cơ quan BHXH theo "
    "hình thức chuyển khoản, Internet Banking, Mobile Banking hoặc thanh toán chuyển khoản trên Cổng DVC quốc gia.",
    "Khi chuyển tiền cần ghi rõ các nội dung: “Đóng BHXH tự nguyện của <họ tên>, <mã số BHXH>, <số điện thoại>”.",
    "Hệ thống tài khoản của BHXH tỉnh và BHXH các huyện, thị xã, thành phố: Chi tiết xem trên trang Web BHXH "
    "Khánh Hòa: <https://khanhhoa.baohiemxahoi.gov.vn/Pages/default.aspx>, Mục: BHXH TỰ NGUYỆN.",
    "7. Quy trình đăng ký, đăng ký lại, điều chỉnh phương thức đóng BHXH tự nguyện:",
    "- *Bước 1*: Người tham gia thực hiện kê khai đầy đủ, chính xác các trường thông tin theo thủ tục 602b trên "
    "Cổng DVC BHXH Việt Nam (<https://dichvucong.baohiemxahoi.gov.vn>) và chịu trách nhiệm đối với nội dung kê "
    "khai.",
    "Lưu ý: phải nhập nội dung mong muốn thay đổi vào ô [18] Nội dung thay đổi, yêu cầu khác.",
    "- *Bước 2*: Sau khi kê khai thành công người tham gia nhận cuộc gọi từ cơ quan BHXH và thực hiện theo hướng "
    "dẫn của chuyên viên BHXH.",
    "- *Bước 3*: Người tham gia cài ứng dụng VssID nhận quá trình tham gia BHXH tự nguyện.",
    "8. Kể từ đầu tháng 11/2020, BHXH tỉnh và BHXH các huyện, thị xã, thành phố đã triển khai Ứng dụng VssID - "
    "BHXH số trên 02 kho ứng dụng Google Play và App Store đến người lao động và các đơn vị sử dụng lao động nhằm: "
    "công khai, minh bạch thông tin về quá trình tham gia và thụ hưởng BHXH, BHYT theo địa chỉ:",
    "<https://khanhhoa.baohiemxahoi.gov.vn/nhungdieucanbiet/Pages/bao-hiem-xa-hoi-tu-nguyen.aspx?ItemID=4738&CateID=0>.",
    "Ứng dụng VssID cung cấp mọi thông tin liên quan về BHXH, BHYT của mỗi cá nhân; thay thế thẻ BHYT giấy để khám "
    "chữa bệnh BHYT; thực hiện mọi giao dịch với cơ quan BHXH về BHXH, BHYT qua Cổng DVC quốc gia, Cổng DVC trực "
    "tuyến tỉnh Khánh Hòa và Cổng DVC BHXH Việt Nam.",
    "Các tổ chức, đơn vị, doanh nghiệp cần triển khai đến toàn bộ người lao động, người dân của đơn vị và trên "
    "từng địa bàn dân cư. Cá nhân tự cài đặt cho chính mình và con mình theo hướng dẫn của cơ quan BHXH.",
    '{%p if recipient.kind == "employers" %}',
    "Đề nghị Quý đơn vị phổ biến Công văn này và tài liệu đính kèm đến toàn thể người lao động của đơn vị; hướng "
    "dẫn, hỗ trợ người lao động cài đặt, đăng ký tài khoản và sử dụng ứng dụng VssID cho bản thân và người thân "
    "trong gia đình.",
    '{%p elif recipient.kind == "communes" %}',
    "Đề nghị Ủy ban nhân dân {{ recipient.name }} chỉ đạo tuyên truyền nội dung Công văn này đến người dân trên "
    "địa bàn qua hệ thống truyền thanh cơ sở, các thôn, tổ dân phố và các kênh thông tin của địa phương; phối hợp "
    "với cơ quan BHXH hỗ trợ người dân cài đặt, đăng ký tài khoản và sử dụng ứng dụng VssID.",
    '{%p elif recipient.kind == "collection_agents" %}',
    "Đề nghị Quý Tổ chức chỉ đạo nhân viên thu hướng dẫn người tham gia BHXH tự nguyện, BHYT hộ gia đình đăng ký "
    "tài khoản giao dịch điện tử, cài đặt và sử dụng ứng dụng VssID; hướng dẫn người tham gia đóng tiền qua các "
    "hình thức thanh toán điện tử nêu tại Mục 6.",
    "{%p endif %}",
    "8.1. Hướng dẫn đăng ký tài khoản giao dịch điện tử trên ứng dụng VssID tại Phụ lục 1, theo địa chỉ link:",
    "<https://baohiemxahoi.gov.vn/Publishing_Home/TaiLieuHuongDan/PL_Huongdan_dangky_tk_tren_VssID.pdf>",
    "8.2. Hướng dẫn đăng ký tài khoản giao dịch điện tử cho con, người dưới 18 tuổi trên ứng dụng VssID tại Phụ "
    "lục 2, theo địa chỉ link:",
    "<https://baohiemxahoi.gov.vn/Publishing_Home/TaiLieuHuongDan/PL_Huongdan_dangky_tk_chuathanhvien_tren_VssID.pdf>",
    "9. Đối với cơ quan BHXH:",
    "Giao BHXH các huyện, thị xã, thành phố gửi Công văn này và tài liệu đính kèm đến: UBND xã, phường, thị trấn; "
    "Tổ chức dịch vụ thu; Các đơn vị sử dụng lao động theo phân cấp quản lý thu.",
    "Giao phòng Quản lý thu chịu trách nhiệm chuyển file Công văn và tài liệu đến các đơn vị sử dụng lao động theo "
    "phân cấp quản lý thu qua hệ thống email; zalo; skype ...",
    "Giao phòng Truyền thông và Phát triển đối tượng chịu trách nhiệm chuyển file Công văn và tài liệu đến UBND "
    "xã, phường, thị trấn; Tổ chức dịch vụ thu theo phân cấp quản lý thu qua hệ thống email; zalo; skype./.",
)

HELP_LINE = ("- Cần hỗ trợ: liên hệ bộ phận một cửa của BHXH các huyện, thị xã, thành phố hoặc của "
             "{{ ten_co_quan }}.")

APPENDIX_1 = (
    "**I. CHUẨN BỊ**",
    "- Điện thoại thông minh có kết nối Internet (hệ điều hành Android hoặc iOS).",
    "- Số điện thoại di động chính chủ đang sử dụng (để nhận mật khẩu và mã xác thực OTP); địa chỉ thư điện tử "
    "(email), nếu có.",
    "- Mã số BHXH (ghi trên thẻ BHYT hoặc sổ BHXH) và thẻ căn cước công dân (CCCD) hoặc số định danh cá nhân "
    "(ĐDCN).",
    "**II. CÁC BƯỚC THỰC HIỆN**",
    "**Bước 1. Cài đặt ứng dụng.** Mở kho ứng dụng Google Play (điện thoại Android) hoặc App Store (điện thoại "
    "iPhone), tìm từ khóa “VssID”, chọn ứng dụng “VssID - Bảo hiểm xã hội số” do Bảo hiểm xã hội Việt Nam phát "
    "hành và chọn “Cài đặt” (hoặc “Nhận”).",
    "**Bước 2. Chọn “Đăng ký”.** Mở ứng dụng VssID, tại màn hình đăng nhập chọn “Đăng ký”.",
    "**Bước 3. Kê khai thông tin.** Nhập đầy đủ, chính xác các thông tin sau:",
    "- mã số BHXH;",
    "- số CCCD/ĐDCN;",
    "- họ và tên, ngày tháng năm sinh (đúng như trên thẻ CCCD);",
    "- số điện thoại di động và địa chỉ email (nếu có);",
    "- cơ quan BHXH nơi thuận tiện để nộp hồ sơ (tỉnh, thành phố và BHXH huyện, thị xã, thành phố nơi cư trú hoặc "
    "làm việc).",
    "Sau đó chụp hoặc tải lên ảnh chân dung và ảnh hai mặt thẻ CCCD theo hướng dẫn trên màn hình (nếu ứng dụng yêu "
    "cầu), nhập mã kiểm tra và chọn “Tiếp tục” để gửi tờ khai.",
    "**Bước 4. Nộp hồ sơ.** Người đăng ký chọn một trong hai cách:",
    "- nộp tờ khai đăng ký sử dụng phương thức giao dịch điện tử (in từ ứng dụng hoặc nhận tại cơ quan BHXH) kèm "
    "thẻ CCCD tại bộ phận một cửa của cơ quan BHXH đã chọn;",
    "- nộp trực tuyến trên Cổng DVC quốc gia <https://dichvucong.gov.vn/> hoặc Cổng DVC BHXH Việt Nam "
    "<https://dichvucong.baohiemxahoi.gov.vn/>.",
    "**Bước 5. Nhận mật khẩu.** Khi hồ sơ được cơ quan BHXH phê duyệt, mật khẩu đăng nhập lần đầu được gửi bằng "
    "tin nhắn SMS đến số điện thoại đã đăng ký. Tên đăng nhập là mã số BHXH.",
    "**Bước 6. Đăng nhập và đổi mật khẩu.** Mở ứng dụng VssID, nhập mã số BHXH và mật khẩu trong tin nhắn, chọn "
    "“Đăng nhập”. Ở lần đăng nhập đầu tiên, ứng dụng yêu cầu đổi mật khẩu: nhập mật khẩu mới (dễ nhớ với mình "
    "nhưng khó đoán với người khác) và xác nhận. Từ đây có thể xem quá trình tham gia BHXH, BHYT, dùng thẻ BHYT "
    "trên ứng dụng khi khám chữa bệnh và thực hiện các dịch vụ công với cơ quan BHXH.",
    "**III. LƯU Ý**",
    "- Không cung cấp mật khẩu, mã OTP cho bất kỳ ai, kể cả người tự xưng là cán bộ cơ quan BHXH; cơ quan BHXH "
    "không bao giờ hỏi mật khẩu của người dùng.",
    "- Quên mật khẩu: tại màn hình đăng nhập chọn “Quên mật khẩu”, nhập mã số BHXH và email hoặc số điện thoại đã "
    "đăng ký để được cấp lại.",
    "- Thay đổi số điện thoại, email đã đăng ký: làm thủ tục thay đổi thông tin tài khoản giao dịch điện tử tại cơ "
    "quan BHXH hoặc trên Cổng DVC.",
    HELP_LINE,
)

APPENDIX_2 = (
    "**I. ĐIỀU KIỆN**",
    "- Cha, mẹ hoặc người giám hộ đã có tài khoản giao dịch điện tử và đăng nhập được ứng dụng VssID (theo hướng "
    "dẫn tại Phụ lục 1).",
    "- Con, người dưới 18 tuổi đã có mã số BHXH (ghi trên thẻ BHYT) và số định danh cá nhân (ghi trên giấy khai "
    "sinh hoặc tra cứu trên ứng dụng VNeID).",
    "- Giấy khai sinh của con, hoặc giấy tờ chứng minh quan hệ giám hộ.",
    "**II. CÁC BƯỚC THỰC HIỆN**",
    "**Bước 1.** Cha, mẹ đăng nhập ứng dụng VssID bằng tài khoản của mình.",
    "**Bước 2.** Chọn chức năng đăng ký tài khoản cho thành viên dưới 18 tuổi (trong mục “Cá nhân” hoặc “Quản lý "
    "cá nhân”; tên mục có thể khác nhau tùy phiên bản ứng dụng).",
    "**Bước 3.** Kê khai thông tin của con: mã số BHXH, số định danh cá nhân, họ và tên, ngày tháng năm sinh; chọn "
    "quan hệ với người đăng ký (cha, mẹ hoặc người giám hộ); chụp hoặc tải lên ảnh giấy khai sinh (hoặc giấy tờ "
    "chứng minh quan hệ giám hộ) theo hướng dẫn trên màn hình; chọn cơ quan BHXH tiếp nhận và chọn “Gửi”.",
    "**Bước 4.** Cơ quan BHXH kiểm tra, phê duyệt hồ sơ; nếu cần bổ sung, cơ quan BHXH liên hệ theo số điện thoại "
    "của cha, mẹ. Cha, mẹ cũng có thể nộp hồ sơ trực tiếp tại bộ phận một cửa của cơ quan BHXH hoặc trực tuyến trên "
    "Cổng DVC quốc gia <https://dichvucong.gov.vn/>, Cổng DVC BHXH Việt Nam "
    "<https://dichvucong.baohiemxahoi.gov.vn/>.",
    "**Bước 5.** Khi hồ sơ được phê duyệt, tin nhắn SMS gửi đến số điện thoại của cha, mẹ thông báo kết quả và mật "
    "khẩu đăng nhập lần đầu của tài khoản của con; tên đăng nhập là mã số BHXH của con.",
    "**Bước 6.** Đăng nhập ứng dụng VssID bằng mã số BHXH của con và mật khẩu vừa nhận, đổi mật khẩu ở lần đăng "
    "nhập đầu tiên. Cha, mẹ dùng tài khoản này để xem thông tin thẻ BHYT, quá trình tham gia của con và xuất trình "
    "thẻ BHYT trên ứng dụng khi đưa con đi khám chữa bệnh.",
    "**III. LƯU Ý**",
    "- Cha, mẹ quản lý tài khoản, mật khẩu của con; không cung cấp mật khẩu, mã OTP cho người khác.",
    "- Khi con đủ 18 tuổi, con tự cập nhật số điện thoại, email của chính mình cho tài khoản theo hướng dẫn tại "
    "Phụ lục 1.",
    HELP_LINE,
)


RENEWAL_BODY = (
    "{{ ten_co_quan }} trân trọng thông báo: Ông/Bà đã đóng bảo hiểm xã hội (BHXH) tự nguyện đến hết tháng "
    "{{ payment.paid_until }}. Để tiếp tục tham gia (đáo hạn), Ông/Bà đóng kỳ từ tháng {{ payment.period_start }} "
    "đến tháng {{ payment.period_end }} (phương thức đóng {{ payment.mode }}, mức thu nhập làm căn cứ đóng "
    "{{ payment.income }} đồng/tháng):",
    "- Số tiền phải đóng: **{{ payment.amount }} đồng**{% if payment.support %} (đã trừ {{ payment.support }} đồng "
    "Nhà nước hỗ trợ){% endif %};",
    "- Hạn nộp: chậm nhất ngày **{{ payment.deadline }}**.",
    "Ông/Bà có thể nộp tiền tại {% if recipient.participation.collector %}{{ recipient.participation.collector }}"
    "{% else %}tổ chức dịch vụ thu nơi cư trú{% endif %}, tại cơ quan BHXH, hoặc chuyển khoản (Internet Banking, "
    "Mobile Banking, Cổng DVC quốc gia) vào tài khoản {{ payment.account.holder }}, số tài khoản "
    "**{{ payment.account.number }}** tại {{ payment.account.bank }}.",
    "Khi chuyển tiền cần ghi rõ nội dung: “{{ payment.memo }}”.",
    "Hoặc quét mã VietQR dưới đây bằng ứng dụng ngân hàng (số tiền và nội dung «{{ payment.qr_memo }}» được "
    "điền sẵn; xin kiểm tra tên tài khoản nhận trước khi chuyển):",
    "|{{ payment.qr }}",
    "Nếu đã nộp tiền cho kỳ này, xin Ông/Bà bỏ qua thông báo này. Cần hỗ trợ, xin liên hệ {{ department.name }}, "
    "{{ ten_co_quan }}./.",
)


def main(target: Path) -> None:
    write_skeleton(target / "thu-nhac-dao-han.docx", RENEWAL_BODY)
    write_skeleton(target / "cong-van-vssid.docx", LETTER_BODY)
    write_appendix(target / "phu-luc-1-vssid.docx", "Phụ lục 1",
                   "HƯỚNG DẪN ĐĂNG KÝ TÀI KHOẢN GIAO DỊCH ĐIỆN TỬ\nTRÊN ỨNG DỤNG VssID", APPENDIX_1)
    write_appendix(target / "phu-luc-2-vssid.docx", "Phụ lục 2",
                   "HƯỚNG DẪN ĐĂNG KÝ TÀI KHOẢN GIAO DỊCH ĐIỆN TỬ CHO CON,\nNGƯỜI DƯỚI 18 TUỔI TRÊN ỨNG DỤNG VssID",
                   APPENDIX_2)
    for name in ("cong-van-vssid.docx", "phu-luc-1-vssid.docx", "phu-luc-2-vssid.docx", "thu-nhac-dao-han.docx"):
        print(target / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "templates")
