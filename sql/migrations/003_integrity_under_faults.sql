-- 003: integrity under faults.
--
-- 1. Ids compare byte for byte, as C and Redis compare them: "Bob" and "bob" are two users with
--    two tallies, "K1" and "k1" two idempotency keys. utf8mb4_unicode_ci folded them together.
-- 2. reservation_audit.txn_id: a server-generated id, unique per transaction attempt. When the
--    connection is lost after COMMIT was sent, the daemon looks the outcome up by it (a client's
--    X-Request-Id is kept in request_id for correlation, but a client may reuse it).
-- 3. events.version: bumped by every committed change, so that a cache fill carrying an older
--    row can never overwrite a newer one.
-- 4. event_audit: who created, changed or deleted which event, under which request; an admin
--    change whose COMMIT answer was lost is looked up here by txn_id.

ALTER TABLE reservations
    MODIFY user_id         VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY idempotency_key VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

ALTER TABLE user_event_tally
    MODIFY user_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;

ALTER TABLE reservation_audit
    MODIFY user_id         VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY idempotency_key VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN txn_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER request_id,
    ADD UNIQUE KEY uq_audit_txn (txn_id);

ALTER TABLE events
    ADD COLUMN version BIGINT UNSIGNED NOT NULL DEFAULT 1 AFTER status;

-- Append-only, and no foreign key: the trail of a deleted event outlives it.
CREATE TABLE event_audit (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id    BIGINT UNSIGNED NOT NULL,
    action      ENUM('CREATE', 'UPDATE', 'DELETE') NOT NULL,
    version     BIGINT UNSIGNED NOT NULL,          -- the event's version after the change
    total_seats INT UNSIGNED    NOT NULL,          -- after the change
    request_id  VARCHAR(64)     NOT NULL,
    txn_id      CHAR(32)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_event_audit_txn (txn_id),
    KEY idx_event_audit_event (event_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
