/** Durable queue, outbox and key store behind one interface; SQLite and PostgreSQL implement it side by side. */
export {};
