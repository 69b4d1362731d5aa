-- 006: seat classes with prices, and the seed's venue object.
--
-- An event may sell classes of seats (VIP, R, S, ...), each with a price in minor units of the
-- event's currency (ISO 4217). A class either has seats of its own (its own inventory pool) or
-- shares the event's common pool (the seed's "price": {vip, r, s} shorthand). The common pool
-- is the pool with class_code '' : every event created before this migration has only that one,
-- so every existing call works unchanged. Availability, gate counters and the oversell guard are
-- per pool; the per-user limit stays per event.

ALTER TABLE events
    ADD COLUMN currency       CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NULL AFTER venue,
    ADD COLUMN venue_address  VARCHAR(500) NULL AFTER venue,
    ADD COLUMN venue_capacity INT UNSIGNED NULL AFTER venue_address;

CREATE TABLE event_classes (
    event_id   BIGINT UNSIGNED  NOT NULL,
    code       VARCHAR(16)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    position   TINYINT UNSIGNED NOT NULL,      -- the order they are shown in
    price      BIGINT UNSIGNED  NOT NULL,      -- minor units of events.currency
    own_seats  INT UNSIGNED     NULL,          -- NULL: shares the common pool
    shards     TINYINT UNSIGNED NULL,          -- rows of its own pool (NULL when shared)
    PRIMARY KEY (event_id, code),
    CONSTRAINT chk_classes_pool CHECK ((own_seats IS NULL) = (shards IS NULL)),
    CONSTRAINT chk_classes_code CHECK (code <> ''),
    CONSTRAINT fk_classes_event FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Each pool has its own shards: the key grows a class_code ('' = the common pool).
ALTER TABLE event_inventory
    ADD COLUMN class_code VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT ''
        AFTER event_id,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (event_id, class_code, shard);

ALTER TABLE reservations
    ADD COLUMN seat_type   VARCHAR(16)     CHARACTER SET ascii COLLATE ascii_bin NULL AFTER quantity,
    ADD COLUMN unit_price  BIGINT UNSIGNED NULL AFTER seat_type,
    ADD COLUMN total_price BIGINT UNSIGNED NULL AFTER unit_price;
