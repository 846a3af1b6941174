from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "channels" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "platform" VARCHAR(32) NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "enabled" BOOL NOT NULL,
    "config" JSONB NOT NULL,
    "secrets_encrypted" TEXT NOT NULL,
    "last_webhook_at" TIMESTAMPTZ,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON COLUMN "channels"."platform" IS 'WHATSAPP: whatsapp';
COMMENT ON TABLE "channels" IS 'One connected account on a platform (a WhatsApp number, a Telegram bot, ...).';
CREATE TABLE IF NOT EXISTS "customers" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(200),
    "phone" VARCHAR(32),
    "email" VARCHAR(254),
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_customers_phone_e369be" ON "customers" ("phone");
CREATE INDEX IF NOT EXISTS "idx_customers_email_cf3ae8" ON "customers" ("email");
CREATE TABLE IF NOT EXISTS "customer_identities" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "platform" VARCHAR(32) NOT NULL,
    "external_id" VARCHAR(200) NOT NULL,
    "display_name" VARCHAR(200),
    "phone" VARCHAR(32),
    "last_inbound_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customers" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_customer_id_channel_8a3bc5" UNIQUE ("channel_id", "external_id")
);
COMMENT ON COLUMN "customer_identities"."platform" IS 'WHATSAPP: whatsapp';
COMMENT ON TABLE "customer_identities" IS 'A customer as one channel knows them (wa_id, PSID, Telegram user id, ...).';
CREATE TABLE IF NOT EXISTS "events" (
    "seq" BIGINT NOT NULL PRIMARY KEY,
    "stream" VARCHAR(100) NOT NULL,
    "prev_seq" BIGINT,
    "type" VARCHAR(40) NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_events_stream_0773d2" ON "events" ("stream", "seq");
COMMENT ON TABLE "events" IS 'The replayable log. `seq` is global and assigned in commit order; `prev_seq` is the previous';
CREATE TABLE IF NOT EXISTS "event_outbox" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "stream" VARCHAR(100) NOT NULL,
    "type" VARCHAR(40) NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "event_outbox" IS 'Events written in the same transaction as the change they describe; the sequencer moves';
CREATE TABLE IF NOT EXISTS "orphan_statuses" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "platform_message_id" VARCHAR(255) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "occurred_at" TIMESTAMPTZ NOT NULL,
    "error_code" VARCHAR(64),
    "error_detail" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_orphan_stat_channel_92f880" UNIQUE ("channel_id", "platform_message_id", "status")
);
COMMENT ON COLUMN "orphan_statuses"."status" IS 'RECEIVED: received\nQUEUED: queued\nSENT: sent\nDELIVERED: delivered\nREAD: read\nFAILED: failed';
COMMENT ON TABLE "orphan_statuses" IS 'A status webhook that arrived before the send job recorded the platform''s message id';
CREATE TABLE IF NOT EXISTS "stream_heads" (
    "stream" VARCHAR(100) NOT NULL PRIMARY KEY,
    "last_seq" BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS "users" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "name" VARCHAR(120) NOT NULL,
    "password_hash" VARCHAR(255) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "is_active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON COLUMN "users"."role" IS 'ADMIN: admin\nSUPERVISOR: supervisor\nAGENT: agent';
CREATE TABLE IF NOT EXISTS "audit_log" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "action" VARCHAR(64) NOT NULL,
    "target_type" VARCHAR(40) NOT NULL,
    "target_id" VARCHAR(64),
    "details" JSONB NOT NULL,
    "ip" VARCHAR(64),
    "created_at" TIMESTAMPTZ NOT NULL,
    "actor_id" INT REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_audit_log_created_277f5d" ON "audit_log" ("created_at");
COMMENT ON TABLE "audit_log" IS 'Who did what to which object. Written in the same transaction as the admin action.';
CREATE TABLE IF NOT EXISTS "conversations" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "platform" VARCHAR(32) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "last_message_id" BIGINT,
    "last_message_at" TIMESTAMPTZ,
    "unread_count" INT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "assignee_id" INT REFERENCES "users" ("id") ON DELETE CASCADE,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customers" ("id") ON DELETE CASCADE,
    "identity_id" INT NOT NULL REFERENCES "customer_identities" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_conversatio_status_5d4c6c" ON "conversations" ("status", "last_message_at");
CREATE INDEX IF NOT EXISTS "idx_conversatio_assigne_f2e212" ON "conversations" ("assignee_id", "status", "last_message_at");
CREATE INDEX IF NOT EXISTS "idx_conversatio_identit_b5761d" ON "conversations" ("identity_id", "status");
COMMENT ON COLUMN "conversations"."platform" IS 'WHATSAPP: whatsapp';
COMMENT ON COLUMN "conversations"."status" IS 'OPEN: open\nPENDING: pending\nRESOLVED: resolved\nCLOSED: closed';
CREATE TABLE IF NOT EXISTS "messages" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "direction" VARCHAR(8) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "text" TEXT,
    "status" VARCHAR(16) NOT NULL,
    "platform_message_id" VARCHAR(255),
    "client_message_id" VARCHAR(64),
    "reply_to_platform_id" VARCHAR(255),
    "attachments" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "error_code" VARCHAR(64),
    "error_reason" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "sent_at" TIMESTAMPTZ,
    "delivered_at" TIMESTAMPTZ,
    "read_at" TIMESTAMPTZ,
    "failed_at" TIMESTAMPTZ,
    "send_attempts" INT NOT NULL,
    "sending_until" TIMESTAMPTZ,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "conversation_id" INT NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "sender_id" INT REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_messages_channel_5933ee" UNIQUE ("channel_id", "platform_message_id"),
    CONSTRAINT "uid_messages_sender__257662" UNIQUE ("sender_id", "client_message_id")
);
CREATE INDEX IF NOT EXISTS "idx_messages_convers_f5b5a9" ON "messages" ("conversation_id", "id");
COMMENT ON COLUMN "messages"."direction" IS 'INBOUND: inbound\nOUTBOUND: outbound';
COMMENT ON COLUMN "messages"."kind" IS 'TEXT: text\nIMAGE: image\nAUDIO: audio\nVIDEO: video\nDOCUMENT: document\nSTICKER: sticker\nLOCATION: location\nCONTACTS: contacts\nINTERACTIVE: interactive\nREACTION: reaction\nTEMPLATE: template\nUNSUPPORTED: unsupported';
COMMENT ON COLUMN "messages"."status" IS 'RECEIVED: received\nQUEUED: queued\nSENT: sent\nDELIVERED: delivered\nREAD: read\nFAILED: failed';
CREATE TABLE IF NOT EXISTS "message_status_changes" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "status" VARCHAR(16) NOT NULL,
    "occurred_at" TIMESTAMPTZ NOT NULL,
    "error_code" VARCHAR(64),
    "error_detail" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "message_id" BIGINT NOT NULL REFERENCES "messages" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_message_sta_message_d5d755" UNIQUE ("message_id", "status")
);
COMMENT ON COLUMN "message_status_changes"."status" IS 'RECEIVED: received\nQUEUED: queued\nSENT: sent\nDELIVERED: delivered\nREAD: read\nFAILED: failed';
COMMENT ON TABLE "message_status_changes" IS 'Every delivery status a platform reported, once each (status webhooks are retried too).';
CREATE TABLE IF NOT EXISTS "refresh_tokens" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "family" UUID NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "revoked_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_refresh_tok_family_8ce7f3" ON "refresh_tokens" ("family");
COMMENT ON TABLE "refresh_tokens" IS 'One issued refresh token. Tokens of one login form a family; re-use of a rotated token';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztXW1z27gR/isYfalvRnUTxXmpr9MZ2VZy6tmWa8nJzUUZBhJhiWcK0BGgHc01/70LkL"
    "RIiqRIWZQpBp9sA1iQfhYAdx8ssH81ZswkNj9su6YlztmkcYz+alA8I/DLSl0TNfB8vqyR"
    "BQKPbNUYy1aG7TcbceHgsYCKW2xzAkUm4WPHmguLUdn805Qh0zLRwxQLJBj8tMZTxEZ/kL"
    "E4RJ8cSwhCkUWRmBLE4YUQdEg59AkdIMxVOTZn0MIrO5TPNdkYHmzRSXmPcKn1p0sMwSYE"
    "6h140OcvUGxRk3wjPPhzfmfcWsQ2I3hapuxAlRtiMVdlJ9akS8V71Vb+AyNjzGx3Rpft5w"
    "sxZfRRwKJClk4IJQ4WRD5BOK5EmLq27WsjAN172WUT7y1DMia5xa4t9SSlvRdYljUM47I3"
    "MPqdgWE0VnQYSIQw94vGjEr9w6tyBcBEvsLf/9lqvXr1tvXi1Zt3r4/evn397sU7aKved7"
    "Xq7XfvZZZoeV0pzLofupcD+UIMBpk3/GTBdyWDBfaklDKW6Hs6XNXA6RQ7yfgvJWI6gH8u"
    "roMA8SwlBAVLLSwnxy7UMMPfDJvQiZjCn2+OMhD+2L4+/aV9ffDm6KcozJd+TUtVScCXAA"
    "vswJzwQCqAckyshlAfvcgB9dGLVKhlVSLUSQvKWqATV5V8MPuLRjVR3v6ANonAlveZi2L8"
    "n37vMhnjkEgMYdMaC/Q/ZFt8Zf3e1oBu/OvWpd7Xa+RatrAoP5SP/XejJAVkAC4hkj3POP"
    "/TDgN9cNH+La6D0/PeiYKMcTFxVC+qg5OYQqx5kfHutdYDff1AHztEYmFgsYrvGdQIa0aS"
    "MY5Kxoe8L3oY/LKdgb9T0wX+P7NH7YX/3AzkB92LTn/QvriKDPuz9qAja1qqdBErPXgT09"
    "JjJ+hTd/ALkn+i33uXnfjseGw3+L0h3wm7ghmUPRjYDEEUlAYwRpQO1g1zEj8hqQZpWGS9"
    "WboH88ozTFsvj94evXv15ujRHn0syTJDPZNTWvu3d2kWJ3NW4X3PHGJN6K9koVDuwithOk"
    "4yfnwH7IaTPVy0vgejJyhdvqKDHx7do8iggv8d/mMivJW93T9tn3UaCuIRHt89YMc0IljL"
    "GtZisZLHtqtVs9YsXoIpnih05L8hX9pHHT4slBK7keARB1XNLId47DXi+fzhHiUIoKLgmx"
    "IT/M0xc6lA0g9FcxuLW+bM0AFGn8CX5e35HF52NiJOE6oHANjEwTM0YqKJDg8Pf1p1hbfe"
    "+5a94B/FBX7SStPMcG4DLSbbRx3Q58paE8E5LF9lD6zx6Zf2oN++ujpWtA6X028DE+pVK4"
    "cJ9aqVakLJqqgJpX4WME6D9lUGe0P79GUrj78LrVLhVXVRfAmV/3sSgcaYTTBNRjkkFQN6"
    "BGJlIR0sLLv1uE56vfOI6XnSjXFklzcXJx1AXuEOjSwRoc5C/gCjt9akiN+7lNBu79bdXk"
    "7AzRLcIHTsLOYiaRYMyLeUL2ii8O5WncYzKGHQ+W2QrYRHR+y8d/khaB7XTFQJNubCeCCj"
    "KWN3GzjKCeJb8JarafJX3TsOMMl0j5XCiOMkeXDpsy0qVQfuadfzbL+4qN2aWfUlo9y5ua"
    "HWo5Ja61XResIiq95+hS9LZ3ciBuk9cTiW2CXsx5z44u9/vSY2Ttm0DbibUFd7OBrSWLXo"
    "PolJqLCERZ6KlcsFmxGn6/W3qCteM8I5njwVrQuvl7qCxJz5FFODCyxc/lSseqqzvuqrTo"
    "CVSkiHV64kVjq2smVQ0/HldC0/nY7Meib4c4M/6lnZx/50k59saPq5gTm3JpQQfxNgTWt/"
    "cVtEW3/RfLPmm38gvnk5STaBfym9QyaIzQktyAY1eledy2MkJYcUfj3rXn44RvCXCdgP6X"
    "Wn3zv/2Dk7RmCTMvuemEMKLmVfloxtxj2yqzB//SYPfR03m0Ps9Zu4siLrWNEo0AThGu29"
    "7yQoNEUTG7J4UXHN4lXHwUzgFaj0ng21313ADIiLbTThNlolX1TaINA0XX0JG03T/YhaT6"
    "PpIpGCUf8sb7BgVKpGNsv2FlEvRKwYrlGh3X2Z9glXn7csCGxUSiObgGyMfMnNqkSkNLLr"
    "Y4fHyxDTJ0YPh4JV9wzivBHE0RUxOYY4aXnYBrihruqKbnRZXA+vFdot2hK8NdyAisMcWy"
    "PXwxzYV1uAueYHDKKGaNEzBnqb8Hl3vYIVNmnHK7T6Zux2+a3K3+nSe1C73IPaach9xda+"
    "6I5F60WeiHtolbpnoeqipv4cQCqE76NASQDvdOyWvH1HZthKMO7TwX0UqB24rdd5zjNDq/"
    "TB+3rPTzRrolLT01rrOor0+S15HUVaPc/nEbcMDyiM7XpPyIiqdv3p9DYKROW9aEyeJvc4"
    "N3QHk1LdlDZDBw8YOm6iq373rLk8OO5ykJLlyUfTt9t1go/2Ocylkm+COBQrrvCL9t50BO"
    "GPG0EYngpFHJGoWJWhr5I3bVocRuzCKEpaxOU0ebGf5MUzArz9pUOFQVp0xFy6ibOVIK6j"
    "KKvjYK361ZpNSZ9q++lX52FTdHSSjk6qPrJZMTQ6zqPMOA8dorTdECVNYW4D+VIpuc49UQ"
    "9a4eG8imYW+UZkk5x822BKkEOk4yelkc0mh+grJ39+RRZHE5uNsI0wNZEf2mLKLAZjNptZ"
    "AjHHJM7P6OvcIfdGICIzGcgCi3mn/iIMXJkPG1L1byN2u8yyAE8meNb08zHANOAII+6OJA"
    "Ij4iDKhDUmUDbBc/Rgwdh1BTz8Dl5XdSIppRHmJOdFlPL4sXygbA2vmHFSWNauTqmMo3m+"
    "wHa+xVVg+545RcNSUXnd9qVEDYmol7mYkZcZzMjLBGbEn6rFRnpYqkYnOXZ8+lRBVmB0B+"
    "1rOLa3nxNjjhc2wwkuVfqtlSGR3V9b+TzcUykXVGp+aBNVVIkPSqUBCwRalG5491wxYt9S"
    "zW+/er0RbrBly7WmuOqao4d86cKknzch8tcF8joakZ89CQLjEbxgB83YPVm1wkt6zpCqDX"
    "TB0FfPAfmK8K2AWt+CPxiDs/4Pr+pwvijldned40wb0PUxoLURp404bcT9UEZczTb5KmLT"
    "BQfhEuy50Bm5dFsufBxvu8e6IiGDQaBZ+A6uL/IiQk5gNKpFfGxb0qwMN1ghIcPMvb8NEL"
    "TThlTlDCnTckhGvtj14YmRDqr86QcwTno3l2fHyI/IGdLezcAvUo4SlMW9lTzGwbsctsG7"
    "VNPgXdwyuLNoSpziemUEsju87FCQb6JRUBPygnyYbCA5pN2L9ocO6GQGC8qQtm/Our1jJH"
    "NssyH92D3rwF/3lkngr7Pe6c1F5xIkQUPuDBaiIe0Puqe/dq6PERfW+I44Q3reO20Pur3L"
    "Y2SzsVqEhvS0dzlonw76xzI3mIDVE7xFmBqdayjsfpRPp+ApSsfznsjLFmWx7AG+hmOvh0"
    "Hn4uocvmLyrWdyoYR2N5f9m6ur3vVA3sLoUu7O58wRVbmKMdBLdBilJ3QI2tchLDDLbCkj"
    "lcP+3VG6wfJ53TntdP07SMfEUneQ/vemcyNL4MGu/LuvpidXU/Oscw7Nr2U1WDTQ3pEtYH"
    "KpHjD8/r7dPZfVt9iyqzJtkoygRL2m+GjJ4nWYVPHDrK9zHWZ9nXGY9fXKYdYV87IA9InC"
    "9QN++0mRZUjEAtwC43HwFgM+Tb5+2Jcy6LEAi2Q6C2Jm8rJBMbFqZKOTz6tNNroZEVj6TU"
    "W0EpaphkpqlSBQJRwDuM1CxHRUqn7L0vY/CR5iYKXxJGIg3YmIy9UB6107E5qeTh/29aKn"
    "o6lPwXYtrvKQmD5ZVrWQksix2MAF3kDJcVmt6SprWiVUKK7kkJjWb5X167FVG2g4Iqh1XG"
    "Udyx1PUJTk+pO88oxzEjE5nU8lHhrOvZxWhktF0sWAa82dqLCeRlWeRvpgdUkHq1dDLPKC"
    "uyqpEU5ZpYoeXI/I1OjsUGmn1mPncp96trqex3yb8QPWqzNYn2DfKsAFk2wso+OeCG29kx"
    "NEVsfN7wXwgiUM71jIdhIUeMm5T1WPNRrXpd4PkARdenhrHOG1oa7GqppzHWByFkGsyQJ5"
    "XSCMgm1pefZfBWg1EYOJiAgeT9GB3+yBjKaM3UF7R14SAJATEwnGEi7yLPE5iSG6s2WMcD"
    "gHuD6kVPXYWh0WVpuwMDYeu85m7H1MtIbbcnWiLHSEwS4jDEwiEtODrIswWMrVAWsdYVAZ"
    "VdQ4wiArqjbLJswMqN1rtnAH5mEG/RUy659IHNQv0V4zRh5Ex2BR9qBMR7jnzMFH9RzcRo"
    "IHHKlvZrm+TLX0Pd/8+SqifiUSUyzAt3SkIY5GBPxR4t+WQU30BxtJK11eZmd6t9f5Luvf"
    "OPIhRtaKxV3KQ4b0ICgHX5jyB+Isu5CX8N1a0OlX6TN8RfA06Un/dIja87ktPeaHKfHuDb"
    "FMeRNf8LxcqTFSzmho37pqi2czw7eu0Dmdqi2qOzizoJkNzWxoZqMy5r9mNjSzUUmsNbNR"
    "GVXUmNnQYWa7idfRQSQ7SoNQJmFxTW5h5k0H7I7QRgJhEalvZhEWjtcSHG1ompOv6FFw2T"
    "kH2xn54kiJHyL1QC7vz5epMW02sShSu+kY+ppZ9uJnkPi7y4lsgpHDhBw1nvQKY1HOY4bU"
    "Iffwi3czqdccHcjfxdQit4q2kH+xBxjTaMTEFB4APVmiGauD53J58ymewBgq5SrSH4WGKC"
    "1tp6feVWBvbrpnaec7AokYuq5rmYdSbjsL3i5RzoDQy6bnffbDH3T1j8buIpKzx5hiPi3i"
    "ekSltkMVPO+QLdvz+Da3QAkbWL9RyRpav3ti7eZy5OHjtImHExLTp2aqrF/PyNjsDGlYUm"
    "u5ylrWVEX6d7K+VAUswgVPFYUkNEmxnqRw+S7PYlQN3Lz0RGhQVYmb6KscDb/A7G8kMBOh"
    "2mYWL8FVO2MKDUu4MjuvU86fPUNFhXydLeanSPfYVbb1wgnfwlJ1WmCfI7jteVYNtVYnrB"
    "fBGp6+Ushl8BmXCM3blcDbkVnivmvGDvfsKRuuFQM3FvqTh2KCVhmhPyskk/pZAN6gfZVD"
    "fTb9qrVyfdVaGV+1VkJiIM4fGKyJRenSFcEaIl5KMJvD7JQRvT6ULZDdYcIF+AjSwhkX2m"
    "cX3ctjhM2ZRYe0f3PVuf7Y7fdk4gR3Tpx7izNnSNsfVDjb8gnPHp1mccNLy5Bg1DHAHtOU"
    "r2VYLqacEQiWpZ1gsd8t+XXS651HCJCTbjxY5ubipAPYK+ihkSVCdpympfKN9RrTUnNzQ6"
    "1HJbXWq6L1BA768VKInD5b6Ip617SEAR8Fx3rqnRtt2dU5m+zt5sPqPRtpN3M9EamC9xnt"
    "I1pBYjuD+wbH5mjlPwO3j0CthlptjlQ8wGvP1uNnue6mTRxrPG0kkEx+TTOLZsLLNppn2t"
    "l3u2SeSa7NqWkTk6ENiWjfPGdyHJhUBRD2m9cQ3VIyfMtsiIlf3vQENyERnYS6YCabZ90v"
    "+f5/ECDgvQ=="
)
