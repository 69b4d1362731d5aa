-- 002: the reservation core: events, sharded inventory, reservations, per-user tallies, audit.
--
-- The invariant (DESIGN.md): seats in CONFIRMED reservations never exceed total_seats. The
-- database guards it: seats are taken only by a conditional UPDATE of event_inventory inside
-- the reservation's own transaction, and the counts are UNSIGNED under strict mode, so no
-- statement can drive them below zero. Redis only decides who gets to try.
-- Written for MariaDB 10.11 and Aurora MySQL 3 (8.0): CHECK constraints are enforced by both.

CREATE TABLE events (
    id              BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    event_name      VARCHAR(200)     NOT NULL,
    venue           VARCHAR(200)     NULL,
    event_date      DATETIME(3)      NOT NULL,            -- UTC
    total_seats     INT UNSIGNED     NOT NULL,
    per_user_limit  INT UNSIGNED     NOT NULL DEFAULT 10,
    max_per_request INT UNSIGNED     NOT NULL DEFAULT 10,
    shards          TINYINT UNSIGNED NOT NULL,            -- rows in event_inventory
    status          ENUM('ACTIVE', 'CLOSED', 'CANCELLED') NOT NULL DEFAULT 'ACTIVE',
    created_at      DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                     ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    -- GET /api/events sorted by eventDate, or filtered by status and sorted; upcoming/available.
    KEY idx_events_date (event_date, id),
    KEY idx_events_status_date (status, event_date, id),
    KEY idx_events_name (event_name, id),
    CONSTRAINT chk_events_total CHECK (total_seats BETWEEN 1 AND 10000000),
    CONSTRAINT chk_events_user_limit CHECK (per_user_limit BETWEEN 1 AND 10000),
    CONSTRAINT chk_events_max_request CHECK (max_per_request BETWEEN 1 AND 100),
    CONSTRAINT chk_events_shards CHECK (shards BETWEEN 1 AND 64)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Availability split into shards so that one hot event is not one hot row. The seats an event
-- still has are SUM(available); capacity is what the shard was given, so that an update of
-- total_seats knows what each shard may give up or take.
CREATE TABLE event_inventory (
    event_id   BIGINT UNSIGNED  NOT NULL,
    shard      TINYINT UNSIGNED NOT NULL,
    available  INT UNSIGNED     NOT NULL,
    capacity   INT UNSIGNED     NOT NULL,
    PRIMARY KEY (event_id, shard),
    CONSTRAINT chk_inventory_available CHECK (available <= capacity),
    CONSTRAINT fk_inventory_event FOREIGN KEY (event_id) REFERENCES events (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reservations (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id         BIGINT UNSIGNED NOT NULL,
    user_id          VARCHAR(64)     NOT NULL,
    quantity         INT UNSIGNED    NOT NULL,
    status           ENUM('CONFIRMED', 'CANCELLED') NOT NULL,
    -- Where the seats came from, "shard:seats[,shard:seats...]", so that a cancel gives them
    -- back to the same shards.
    shard_alloc      VARCHAR(1024)   NOT NULL,
    idempotency_key  VARCHAR(128)    NULL,        -- cleared once older than idempotency_ttl_s
    request_hash     CHAR(64)        NULL,        -- SHA2 of the canonical request
    created_at       DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at       DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                     ON UPDATE CURRENT_TIMESTAMP(3),
    cancelled_at     DATETIME(3)     NULL,
    PRIMARY KEY (id),
    -- A user's reservations, newest first, optionally by status; user statistics.
    KEY idx_reservations_user (user_id, status, id),
    -- CANNOT_DELETE_EVENT and the drill's read-back by event.
    KEY idx_reservations_event (event_id, status),
    -- Idempotency: one reservation per (user, key); NULLs do not collide.
    UNIQUE KEY uq_reservations_idempotency (user_id, idempotency_key),
    -- Purging keys past their retention.
    KEY idx_reservations_idem_age (created_at, idempotency_key),
    CONSTRAINT chk_reservations_quantity CHECK (quantity BETWEEN 1 AND 100),
    CONSTRAINT chk_reservations_cancelled CHECK (
        (status = 'CANCELLED') = (cancelled_at IS NOT NULL)),
    -- RESTRICT: an event with reservations cannot be deleted (409 CANNOT_DELETE_EVENT).
    CONSTRAINT fk_reservations_event FOREIGN KEY (event_id) REFERENCES events (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Seats each user holds per event. The per-user limit is enforced by the CHECK: the
-- reservation transaction adds its quantity, and a sum over seat_limit fails the statement.
CREATE TABLE user_event_tally (
    event_id    BIGINT UNSIGNED NOT NULL,
    user_id     VARCHAR(64)     NOT NULL,
    seats       INT UNSIGNED    NOT NULL,
    seat_limit  INT UNSIGNED    NOT NULL,
    PRIMARY KEY (event_id, user_id),
    CONSTRAINT chk_tally_limit CHECK (seats <= seat_limit),
    CONSTRAINT fk_tally_event FOREIGN KEY (event_id) REFERENCES events (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Append-only: who did what to which reservation, when, under which request and key.
-- The application only ever INSERTs here.
CREATE TABLE reservation_audit (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    reservation_id   BIGINT UNSIGNED NOT NULL,
    event_id         BIGINT UNSIGNED NOT NULL,
    user_id          VARCHAR(64)     NOT NULL,
    action           ENUM('CREATE', 'CANCEL') NOT NULL,
    quantity         INT UNSIGNED    NOT NULL,
    request_id       VARCHAR(64)     NOT NULL,
    idempotency_key  VARCHAR(128)    NULL,
    created_at       DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_audit_reservation (reservation_id, id),
    CONSTRAINT fk_audit_reservation FOREIGN KEY (reservation_id) REFERENCES reservations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
