/**
 * Bulk export as a four-eyes job (issue 4, deliverable 3): requested by one person, approved by
 * a second, read through the vault, watermarked for and encrypted to the recipient (age).
 */
export { ExportService } from './export-service.js';
export type { ExportDeps, ExportDownload, ExportJobView, Facts as ExportFacts } from './export-service.js';
export { DEFAULT_EXPORT_POLICY } from './export-policy.js';
export type { ExportPolicy } from './export-policy.js';
export { parseMark, WATERMARK_SYSTEM } from './watermark.js';
export type { MarkCheck } from './watermark.js';
