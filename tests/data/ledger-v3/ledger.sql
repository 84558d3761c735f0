BEGIN TRANSACTION;
CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    message_sha256 TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT,
    revoke_note TEXT NOT NULL DEFAULT ''
);
INSERT INTO "approvals" VALUES(1,'vssid-2022','employers/TA00001','140e005f57c6b83a3efd8d9e4255c76dc5f9654967cd9c3656286fc0537d67cd','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00',NULL,NULL,'');
INSERT INTO "approvals" VALUES(2,'vssid-2022','employers/TA00002','03e40ef4fae562777d4857025be97f8d05ffe54c0750b1b2ec0cbefcd03a1688','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00',NULL,NULL,'');
INSERT INTO "approvals" VALUES(3,'vssid-2022','employers/TA00003','8ca7eb9caac758f91418f0bf4ad5039552da442f93d3d2043e551e994be20c8e','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00',NULL,NULL,'');
INSERT INTO "approvals" VALUES(4,'vssid-2022','employers/TA00004','8da6c55e6ae8804372fc30ee54be6a48984dfd4f7f088ae4ebdb25503098d924','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00',NULL,NULL,'');
INSERT INTO "approvals" VALUES(5,'vssid-2022','employers/TA00005','414c9c336634d5ef37d09cb6bd9cc185d0ff897132309348d6cf286a317dc799','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00',NULL,NULL,'');
INSERT INTO "approvals" VALUES(6,'vssid-2022','employers/TA00006','c48ef9d4ca244668326c15dc3298c6bbe374e8d32128ea0088d0fda7207bc5e6','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00','Trưởng phòng','2023-01-09T02:00:00.000+00:00','sai số liệu');
INSERT INTO "approvals" VALUES(7,'vssid-2022','employers/TA00007','d4250403efd546956ddb0ee00bdd8633eefe2371250d7a1b3161e58b15c3722a','Nguyễn Thị Duyệt','2023-01-09T02:00:00.000+00:00',NULL,NULL,'');
CREATE TABLE campaigns (
    campaign TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL DEFAULT '',
    changed_at TEXT
);
INSERT INTO "campaigns" VALUES('vssid-2022',0,'','Trưởng phòng','2023-01-09T02:00:00.000+00:00');
CREATE TABLE "deliveries" (
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    sender TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('approved', 'sending', 'sent', 'retrying', 'failed', 'uncertain', 'printed', 'posted', 'revoked')),
    approval_id INTEGER NOT NULL REFERENCES approvals (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    message_id TEXT NOT NULL DEFAULT '',
    to_addrs TEXT NOT NULL DEFAULT '[]',
    cc_addrs TEXT NOT NULL DEFAULT '[]',
    code INTEGER,
    reply TEXT NOT NULL DEFAULT '',
    started_at TEXT,
    sent_at TEXT,
    file_hashes TEXT NOT NULL DEFAULT '{}',
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'email',
    "where" TEXT NOT NULL DEFAULT '',
    posted_by TEXT NOT NULL DEFAULT '',
    posted_on TEXT,
    PRIMARY KEY (campaign, key)
);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00001','QLT','sent',1,1,NULL,'<179616331697.29963.7007988019150421305.1b090e6da373c365@bhxh-khanhhoa.example.vn>','["dv1@example.vn"]','[]',250,'2.0.0 Ok: queued as 1796163317.M331042P29963Q1.vm','2023-01-09T02:00:00.000+00:00','2023-01-09T02:00:00.000+00:00','{"message.eml": "140e005f57c6b83a3efd8d9e4255c76dc5f9654967cd9c3656286fc0537d67cd"}','','2023-01-09T02:00:00.000+00:00','email','','',NULL);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00002','QLT','retrying',2,1,'2023-01-09T02:05:00.000+00:00','<179616331698.29963.2546718026632838360.a3f9059ebae4d306@bhxh-khanhhoa.example.vn>','["dv2@example.vn"]','[]',451,'4.3.0 Hệ thống bận, thử lại sau','2023-01-09T02:00:00.000+00:00',NULL,'{"message.eml": "03e40ef4fae562777d4857025be97f8d05ffe54c0750b1b2ec0cbefcd03a1688"}','Lỗi tạm thời, sẽ thử lại lần 2/5 (RCPT TO:<dv2@example.vn>: 451 4.3.0 Hệ thống bận, thử lại sau).','2023-01-09T02:00:00.000+00:00','email','','',NULL);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00003','QLT','failed',3,1,NULL,'<179616331698.29963.3601163437091321014.d19af41b4e108e46@bhxh-khanhhoa.example.vn>','["dv3@example.vn"]','[]',550,'5.1.1 <dv3@example.vn>: Recipient address rejected: User unknown','2023-01-09T02:00:00.000+00:00',NULL,'{"message.eml": "8ca7eb9caac758f91418f0bf4ad5039552da442f93d3d2043e551e994be20c8e"}','Máy chủ từ chối thư (RCPT TO:<dv3@example.vn>: 550 5.1.1 <dv3@example.vn>: Recipient address rejected: User unknown).','2023-01-09T02:00:00.000+00:00','email','','',NULL);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00004','QLT','sent',4,1,NULL,'<179616331698.29963.17016580551639469658.254c971115494fca@bhxh-khanhhoa.example.vn>','["dv4@example.vn"]','[]',NULL,'SMTPServerDisconnected: Connection unexpectedly closed','2023-01-09T02:00:00.000+00:00','2023-01-09T02:00:00.000+00:00','{"message.eml": "8da6c55e6ae8804372fc30ee54be6a48984dfd4f7f088ae4ebdb25503098d924"}','Mất kết nối sau khi đã gửi xong nội dung thư, trước khi máy chủ trả lời (chờ máy chủ trả lời sau khi đã gửi xong nội dung thư: SMTPServerDisconnected: Connection unexpectedly closed). Máy chủ có thể đã nhận thư nên thư KHÔNG được gửi lại tự động; kiểm tra hộp thư người nhận hoặc nhật ký máy chủ rồi chạy ''outreach resolve''.','2023-01-09T03:00:00.000+00:00','email','','',NULL);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00005','QLT','approved',5,0,NULL,'','[]','[]',NULL,'',NULL,NULL,'{}','','2023-01-09T02:00:00.000+00:00','email','','',NULL);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00006','QLT','revoked',6,0,NULL,'','[]','[]',NULL,'',NULL,NULL,'{}','','2023-01-09T02:00:00.000+00:00','email','','',NULL);
INSERT INTO "deliveries" VALUES('vssid-2022','employers/TA00007','QLT','sending',7,1,NULL,'<179616331700.29963.7758479482110901831.ec3ba126cb2c390b@bhxh-khanhhoa.example.vn>','["dv7@example.vn"]','[]',NULL,'','2023-01-09T02:01:00.000+00:00',NULL,'{"message.eml": "d4250403efd546956ddb0ee00bdd8633eefe2371250d7a1b3161e58b15c3722a"}','','2023-01-09T02:01:00.000+00:00','email','','',NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
, login TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '');
INSERT INTO "events" VALUES(1,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00001',NULL,'approved','Nguyễn Thị Duyệt','sha256 140e005f57c6b83a3efd8d9e4255c76dc5f9654967cd9c3656286fc0537d67cd','','');
INSERT INTO "events" VALUES(2,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00002',NULL,'approved','Nguyễn Thị Duyệt','sha256 03e40ef4fae562777d4857025be97f8d05ffe54c0750b1b2ec0cbefcd03a1688','','');
INSERT INTO "events" VALUES(3,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00003',NULL,'approved','Nguyễn Thị Duyệt','sha256 8ca7eb9caac758f91418f0bf4ad5039552da442f93d3d2043e551e994be20c8e','','');
INSERT INTO "events" VALUES(4,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00004',NULL,'approved','Nguyễn Thị Duyệt','sha256 8da6c55e6ae8804372fc30ee54be6a48984dfd4f7f088ae4ebdb25503098d924','','');
INSERT INTO "events" VALUES(5,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00005',NULL,'approved','Nguyễn Thị Duyệt','sha256 414c9c336634d5ef37d09cb6bd9cc185d0ff897132309348d6cf286a317dc799','','');
INSERT INTO "events" VALUES(6,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00006',NULL,'approved','Nguyễn Thị Duyệt','sha256 c48ef9d4ca244668326c15dc3298c6bbe374e8d32128ea0088d0fda7207bc5e6','','');
INSERT INTO "events" VALUES(7,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00007',NULL,'approved','Nguyễn Thị Duyệt','sha256 d4250403efd546956ddb0ee00bdd8633eefe2371250d7a1b3161e58b15c3722a','','');
INSERT INTO "events" VALUES(8,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00006','approved','revoked','Trưởng phòng','sai số liệu','','');
INSERT INTO "events" VALUES(9,'2023-01-09T02:00:00.000+00:00','vssid-2022','',NULL,'paused','Trưởng phòng','Kiểm tra danh sách trước khi gửi','','');
INSERT INTO "events" VALUES(10,'2023-01-09T02:00:00.000+00:00','vssid-2022','',NULL,'resumed','Trưởng phòng','','','');
INSERT INTO "events" VALUES(11,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00001','approved','sending','outreach','<179616331697.29963.7007988019150421305.1b090e6da373c365@bhxh-khanhhoa.example.vn>','','');
INSERT INTO "events" VALUES(12,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00001','sending','sent','outreach','250 2.0.0 Ok: queued as 1796163317.M331042P29963Q1.vm','','');
INSERT INTO "events" VALUES(13,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00002','approved','sending','outreach','<179616331698.29963.2546718026632838360.a3f9059ebae4d306@bhxh-khanhhoa.example.vn>','','');
INSERT INTO "events" VALUES(14,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00002','sending','retrying','outreach','451 4.3.0 Hệ thống bận, thử lại sau Lỗi tạm thời, sẽ thử lại lần 2/5 (RCPT TO:<dv2@example.vn>: 451 4.3.0 Hệ thống bận, thử lại sau).','','');
INSERT INTO "events" VALUES(15,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00003','approved','sending','outreach','<179616331698.29963.3601163437091321014.d19af41b4e108e46@bhxh-khanhhoa.example.vn>','','');
INSERT INTO "events" VALUES(16,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00003','sending','failed','outreach','550 5.1.1 <dv3@example.vn>: Recipient address rejected: User unknown Máy chủ từ chối thư (RCPT TO:<dv3@example.vn>: 550 5.1.1 <dv3@example.vn>: Recipient address rejected: User unknown).','','');
INSERT INTO "events" VALUES(17,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00004','approved','sending','outreach','<179616331698.29963.17016580551639469658.254c971115494fca@bhxh-khanhhoa.example.vn>','','');
INSERT INTO "events" VALUES(18,'2023-01-09T02:00:00.000+00:00','vssid-2022','employers/TA00004','sending','uncertain','outreach','SMTPServerDisconnected: Connection unexpectedly closed Mất kết nối sau khi đã gửi xong nội dung thư, trước khi máy chủ trả lời (chờ máy chủ trả lời sau khi đã gửi xong nội dung thư: SMTPServerDisconnected: Connection unexpectedly closed). Máy chủ có thể đã nhận thư nên thư KHÔNG được gửi lại tự động; kiểm tra hộp thư người nhận hoặc nhật ký máy chủ rồi chạy ''outreach resolve''.','','');
INSERT INTO "events" VALUES(19,'2023-01-09T02:01:00.000+00:00','vssid-2022','employers/TA00007','approved','sending','outreach','<179616331700.29963.7758479482110901831.ec3ba126cb2c390b@bhxh-khanhhoa.example.vn>','','');
INSERT INTO "events" VALUES(20,'2023-01-09T03:00:00.000+00:00','vssid-2022','employers/TA00004','uncertain','sent','Trưởng phòng','đơn vị xác nhận đã nhận qua điện thoại','','');
CREATE UNIQUE INDEX approvals_active ON approvals (campaign, key) WHERE revoked_at IS NULL;
CREATE INDEX events_by_campaign ON events (campaign, key, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE INDEX deliveries_by_sender ON deliveries (sender, state, sent_at);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('events',20);
COMMIT;
PRAGMA user_version = 3;
