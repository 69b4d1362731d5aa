-- 007: the reservation's common path in one CALL (issue 13).
--
-- The reservation transaction was two multi-statement batches of seven statements. MariaDB
-- answers each statement of a batch with a packet of its own, so the worker woke up seven
-- times per reservation and the server sent seven times; on the bench machine that, not the
-- SQL, was most of MariaDB's CPU. A stored procedure runs the same statements server-side and
-- answers once: measured on the bench's gate surge (256 connections, 15 s, 3 pairs), 1,157
-- against 1,478 confirmed/s.
--
-- The statements and the invariant are those of fcgi-app/reserve.c: a shared lock on the event
-- row that checks it is on sale, the per-user tally whose CHECK is the limit, the conditional
-- UPDATE of one inventory shard, the reservation row and its audit row with the attempt's
-- txn_id, COMMIT. The procedure never leaves a transaction open:
--   OK       committed; the reservation's id
--   REFUSED  the event is missing, not on sale, the quantity is over max_per_request, or its
--            waiting room is on and the request holds no admission; rolled back
--   SHORT    the chosen shard has fewer seats than asked; rolled back, and the daemon runs its
--            multi-shard path (the batches) instead
-- Every answer is one row: outcome, reservation id, and the event's status, "in the future",
-- max_per_request, per_user_limit and waiting_room as the transaction saw them (NULL when the
-- event is missing). Errors reach the caller as errors (the tally's CHECK: over the per-user
-- limit; a deadlock, a lock wait timeout, a duplicate Idempotency-Key); it rolls back whatever
-- is still open and answers or retries. (No handler for the CHECK: its number is 4025 on
-- MariaDB and 3819 on MySQL 8 / Aurora 3; the daemon knows both.)
--
-- SQL SECURITY INVOKER: it runs with the daemon's own rights (DML on the tables), which
-- scripts/migrate completes with EXECUTE on this procedure.

DELIMITER //

CREATE PROCEDURE reserve_one_shard(
    IN p_event      BIGINT UNSIGNED,
    IN p_user       VARCHAR(64)   CHARACTER SET utf8mb4,
    IN p_qty        INT UNSIGNED,
    IN p_admitted   TINYINT,
    IN p_pool       VARCHAR(16)   CHARACTER SET ascii,
    IN p_shard      INT,
    IN p_alloc      VARCHAR(1024) CHARACTER SET utf8mb4,
    IN p_status     VARCHAR(16)   CHARACTER SET ascii,
    IN p_seat_type  VARCHAR(16)   CHARACTER SET ascii,
    IN p_unit       BIGINT UNSIGNED,
    IN p_total      BIGINT UNSIGNED,
    IN p_key        VARCHAR(128)  CHARACTER SET utf8mb4,
    IN p_canonical  VARCHAR(400)  CHARACTER SET utf8mb4,
    IN p_now        DATETIME(3),
    IN p_until      DATETIME(3),
    IN p_action     VARCHAR(16)   CHARACTER SET ascii,
    IN p_request_id VARCHAR(64)   CHARACTER SET utf8mb4,
    IN p_txn        CHAR(32)      CHARACTER SET ascii)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
proc: BEGIN
    DECLARE v_status  VARCHAR(16) DEFAULT NULL;
    DECLARE v_future  TINYINT DEFAULT NULL;
    DECLARE v_max     INT UNSIGNED DEFAULT NULL;
    DECLARE v_limit   INT UNSIGNED DEFAULT NULL;
    DECLARE v_room    TINYINT DEFAULT NULL;
    DECLARE v_id      BIGINT UNSIGNED DEFAULT NULL;

    START TRANSACTION;
    SELECT status, event_date > UTC_TIMESTAMP(3), max_per_request, per_user_limit, waiting_room
      INTO v_status, v_future, v_max, v_limit, v_room
      FROM events WHERE id = p_event LOCK IN SHARE MODE;
    IF v_status IS NULL OR v_status <> 'ACTIVE' OR NOT v_future OR p_qty > v_max
       OR (v_room <> 0 AND NOT p_admitted) THEN
        ROLLBACK;
        SELECT 'REFUSED', NULL, v_status, v_future, v_max, v_limit, v_room;
        LEAVE proc;
    END IF;

    INSERT INTO user_event_tally (event_id, user_id, seats, seat_limit)
        VALUES (p_event, p_user, p_qty, v_limit)
        ON DUPLICATE KEY UPDATE seats = seats + VALUES(seats);

    UPDATE event_inventory SET available = available - p_qty
     WHERE event_id = p_event AND class_code = p_pool AND shard = p_shard AND available >= p_qty;
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'SHORT', NULL, v_status, v_future, v_max, v_limit, v_room;
        LEAVE proc;
    END IF;

    INSERT INTO reservations (event_id, user_id, quantity, seat_type, unit_price, total_price,
                              status, shard_alloc, idempotency_key, request_hash, created_at,
                              updated_at, expires_at)
        VALUES (p_event, p_user, p_qty, p_seat_type, p_unit, p_total, p_status, p_alloc, p_key,
                IF(p_canonical IS NULL, NULL, SHA2(p_canonical, 256)), p_now, p_now, p_until);
    SET v_id = LAST_INSERT_ID();
    INSERT INTO reservation_audit (reservation_id, event_id, user_id, action, quantity,
                                   request_id, txn_id, idempotency_key)
        VALUES (v_id, p_event, p_user, p_action, p_qty, p_request_id, p_txn, p_key);
    COMMIT;
    SELECT 'OK', v_id, v_status, v_future, v_max, v_limit, v_room;
END//

DELIMITER ;
