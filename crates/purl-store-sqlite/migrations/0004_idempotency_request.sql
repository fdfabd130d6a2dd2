-- The request an idempotency key first answered (JSON, when small), so a key reused for another
-- request is refused naming the first field that differs.
ALTER TABLE idempotency ADD COLUMN request TEXT;
