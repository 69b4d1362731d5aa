-- 004: the virtual waiting room of an event.
--
-- Off by default. When an admin turns it on (PUT /api/events/{id} {"waitingRoom": {"enabled":
-- true, "admitPerSecond": N}}), reservations for the event need an admission token, which a
-- buyer gets after queueing (POST /api/events/{id}/queue) once the serving number reaches theirs.
-- The queue itself lives in Redis; these columns are the admin's settings, read inside the
-- reservation transaction so a stale cache can never let a buyer skip the queue.

ALTER TABLE events
    ADD COLUMN waiting_room     TINYINT(1)   NOT NULL DEFAULT 0 AFTER version,
    ADD COLUMN admit_per_second INT UNSIGNED NOT NULL DEFAULT 0 AFTER waiting_room,
    ADD CONSTRAINT chk_events_waiting_room CHECK (
        (waiting_room = 0) OR (admit_per_second BETWEEN 1 AND 100000));
