/** Alert delivery (issue 4): webhook and syslog (RFC 5424), through an outbox in the store. */
export { AlertDelivery, backoffDelayMs, DEFAULT_BACKOFF } from './alert-delivery.js';
export type { AlertDeliveryOptions, Backoff, DeliveryLogger, DeliveryRun } from './alert-delivery.js';
export { alertDeliveryConfig, parseAlertDeliveryConfig, isAllowedWebhookUrl } from './alert-delivery-config.js';
export type { AlertDeliveryConfig, AlertDeliveryConfigInput, SyslogConfig, WebhookConfig } from './alert-delivery-config.js';
export { ALERT_SEVERITIES } from './deliverable-alert.js';
export type { AlertSeverity, DeliverableAlert } from './deliverable-alert.js';
export { DeliveryFailure } from './delivery-failure.js';
export type { DeliveryFailureReason } from './delivery-failure.js';
export type { DeliveryChannel, DeliveryTransport } from './delivery-transport.js';
export { renderSyslogMessage, renderWebhookBody, APP_NAME, SD_ID, SYSLOG_SEVERITY_OF, WEBHOOK_FORMAT } from './render-alert.js';
export type { SyslogRenderOptions } from './render-alert.js';
export { formatSyslogMessage, escapeParamValue, octetCountingFrame, SYSLOG_FACILITIES, SYSLOG_SEVERITIES } from './syslog-message.js';
export type { SdElement, SyslogFacilityName, SyslogFields } from './syslog-message.js';
export { SyslogTransport } from './syslog-transport.js';
export { WebhookTransport, DELIVERY_ID_HEADER } from './webhook-transport.js';
export type { WebhookTransportOptions } from './webhook-transport.js';
export { signWebhook, verifyWebhookSignature, SIGNATURE_HEADER, DEFAULT_SIGNATURE_TOLERANCE_SECONDS } from './webhook-signature.js';
export type { SignatureCheck } from './webhook-signature.js';
