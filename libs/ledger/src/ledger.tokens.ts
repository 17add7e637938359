/**
 * The ledger's own injection tokens, each declared once. The stores' tokens belong to their libraries: EVENT_STORE
 * to @app/event-store, READ_STORE to @app/projections.
 */
export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');
/** The key that signs the Merkle tree's checkpoints (configured, or generated on first start in the data folder). */
export const CHECKPOINT_KEY = Symbol('CHECKPOINT_KEY');
