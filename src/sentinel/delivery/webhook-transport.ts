/**
 * POSTs a rendered alert to the configured webhook, signed (webhook-signature.ts). A redirect is
 * never followed: it counts as a failure, so a moved or hijacked endpoint cannot send the alert
 * elsewhere. Only a 2xx answer counts as delivered; the answer's body is not read.
 */
import { LabkluisError, type Clock } from '../../kernel/index.js';
import { isAllowedWebhookUrl, type WebhookConfig } from './alert-delivery-config.js';
import { DeliveryFailure, failureFromError } from './delivery-failure.js';
import type { DeliveryTransport } from './delivery-transport.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export const DELIVERY_ID_HEADER = 'X-Labkluis-Delivery';

export interface WebhookTransportOptions {
  readonly config: WebhookConfig;
  readonly clock: Clock;
}

export class WebhookTransport implements DeliveryTransport {
  readonly channel = 'webhook' as const;
  readonly #config: WebhookConfig;
  readonly #clock: Clock;

  constructor({ config, clock }: WebhookTransportOptions) {
    // The schema checked it already; checked again here because this is the transport that connects.
    if (!isAllowedWebhookUrl(config.url)) throw new LabkluisError('ERR_CONFIG', 'the webhook URL is https (plain http only to a loopback address)');
    this.#config = Object.freeze({ ...config });
    this.#clock = clock;
  }

  async send({ id, payload }: { readonly id: string; readonly payload: string }): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.#config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'labkluis-alert-delivery/1',
          [SIGNATURE_HEADER]: signWebhook(this.#config.secret, payload, this.#clock.now()),
          // The same on every attempt: receivers drop a delivery they have seen (at-least-once).
          [DELIVERY_ID_HEADER]: id,
        },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#config.timeoutMs),
      });
    } catch (e) {
      if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) throw new DeliveryFailure('timeout');
      throw failureFromError(e);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new DeliveryFailure(`http-${response.status}`);
  }

  async close(): Promise<void> {
  }
}
