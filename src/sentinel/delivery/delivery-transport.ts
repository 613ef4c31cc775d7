import type { DeliveryRow } from '../../store/index.js';

export type DeliveryChannel = DeliveryRow['channel'];

/** One way out for rendered alerts. */
export interface DeliveryTransport {
  readonly channel: DeliveryChannel;
  /** Sends one rendered payload; rejects with a DeliveryFailure. `id` is the outbox row's id. */
  send(delivery: { readonly id: string; readonly payload: string }): Promise<void>;
  /** Releases what the transport holds (sockets); sends afterwards fail. */
  close(): Promise<void>;
}
