-- 005: holds. A reservation may be HELD until expires_at (hold_ttl_s after it was made), then
-- CONFIRMED (POST /api/reservations/{id}/confirm, with an optional payment reference) or, past
-- expires_at, EXPIRED: its seats go back to the inventory exactly once, by whoever gets there
-- first (the reservation path's lazy reclaim, or the housekeeping sweeper), under the row lock.
-- The invariant becomes: CONFIRMED + unexpired HELD seats <= total_seats. Held seats are taken
-- from the inventory and the per-user tally like confirmed ones, so the database still decides.

ALTER TABLE reservations
    MODIFY status ENUM('CONFIRMED', 'CANCELLED', 'HELD', 'EXPIRED') NOT NULL,
    ADD COLUMN expires_at   DATETIME(3)  NULL AFTER cancelled_at,
    ADD COLUMN confirmed_at DATETIME(3)  NULL AFTER expires_at,
    ADD COLUMN payment_ref  VARCHAR(128) NULL AFTER confirmed_at,
    -- the sweeper's scan: the oldest expired holds first
    ADD KEY idx_reservations_holds (status, expires_at),
    ADD CONSTRAINT chk_reservations_hold CHECK (status <> 'HELD' OR expires_at IS NOT NULL);

ALTER TABLE reservation_audit
    MODIFY action ENUM('CREATE', 'CANCEL', 'HOLD', 'CONFIRM', 'EXPIRE') NOT NULL;
