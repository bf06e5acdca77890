/**
 * The "Lobaro wMbus JSON" shape (lobaro-api.md §2.1/§2.4) produced by `decode()`. Field names are
 * Lobaro's; fields Lobaro does not document are marked as extensions.
 */
export {};
