-- 001: database defaults and the app_meta key/value table.
--
-- Forward-only: never edit this file after it has been applied anywhere (scripts/migrate
-- refuses to run when an applied file's checksum changes); add 002_..., 003_... instead.
-- Written for both MariaDB 10.11 (local) and Aurora MySQL 8.0 (production).

-- Every table created from now on defaults to utf8mb4 (the API speaks UTF-8 JSON).
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Small facts about this database that the application and operators can read:
-- the schema's origin, when it was created, feature flags that must outlive a deploy.
CREATE TABLE IF NOT EXISTS app_meta (
    meta_key    VARCHAR(64)   NOT NULL,
    meta_value  VARCHAR(1024) NOT NULL,
    created_at  DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (meta_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO app_meta (meta_key, meta_value) VALUES
    ('app', 'boxoffice'),
    ('schema_created_at', DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ'))
ON DUPLICATE KEY UPDATE meta_value = meta_value;
