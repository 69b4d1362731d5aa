-- Demo data for scripts/run-local: three events, one of them almost sold out.
-- Idempotent: fixed ids, INSERT IGNORE. The Redis gate counters are rebuilt from these rows
-- on the first reservation, as they would be after any Redis restart.
INSERT IGNORE INTO events (id, event_name, venue, event_date, total_seats, per_user_limit,
                           max_per_request, shards)
VALUES
    (1, 'The Midnight Orchestra', 'Olympic Hall, Seoul',
     DATE_ADD(UTC_DATE(), INTERVAL 30 DAY) + INTERVAL 19 HOUR, 5000, 4, 4, 8),
    (2, 'Indie Rock Night', 'Rolling Hall, Seoul',
     DATE_ADD(UTC_DATE(), INTERVAL 45 DAY) + INTERVAL 20 HOUR, 300, 2, 2, 4),
    (3, 'Last Seats Matinee', 'Blue Square, Seoul',
     DATE_ADD(UTC_DATE(), INTERVAL 7 DAY) + INTERVAL 14 HOUR, 10, 2, 2, 2);

-- Seats spread over the shards; event 3 starts with only 3 seats left (7 sold at the door).
INSERT IGNORE INTO event_inventory (event_id, shard, available, capacity)
VALUES
    (1, 0, 625, 625), (1, 1, 625, 625), (1, 2, 625, 625), (1, 3, 625, 625),
    (1, 4, 625, 625), (1, 5, 625, 625), (1, 6, 625, 625), (1, 7, 625, 625),
    (2, 0, 75, 75), (2, 1, 75, 75), (2, 2, 75, 75), (2, 3, 75, 75),
    (3, 0, 2, 5), (3, 1, 1, 5);

INSERT IGNORE INTO reservations (id, event_id, user_id, quantity, status, shard_alloc)
VALUES
    (1, 3, 'box-office', 2, 'CONFIRMED', '0:2'),
    (2, 3, 'box-office-2', 2, 'CONFIRMED', '0:1,1:1'),
    (3, 3, 'box-office-3', 2, 'CONFIRMED', '1:2'),
    (4, 3, 'box-office-4', 1, 'CONFIRMED', '1:1');

INSERT IGNORE INTO user_event_tally (event_id, user_id, seats, seat_limit)
VALUES
    (3, 'box-office', 2, 2), (3, 'box-office-2', 2, 2), (3, 'box-office-3', 2, 2),
    (3, 'box-office-4', 1, 2);
