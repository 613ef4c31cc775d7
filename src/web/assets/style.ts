/** /web/style.css: the pages' only styles (the CSP allows no inline style). */
export const styleCss = String.raw`/* labkluis sign-in pages: plain, legible, no external fonts or images. */
:root { color-scheme: light dark; --accent: #1d5fa8; --danger: #a4161a; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0; }
main { max-width: 44rem; margin: 3rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.2rem; margin: 2.25rem 0 0.25rem; }
.nl { color: GrayText; font-weight: normal; font-size: 0.9em; }
.nl::before { content: " · "; }
button .nl { color: inherit; opacity: 0.8; }
form { display: grid; gap: 0.35rem; max-width: 24rem; margin-top: 1.5rem; }
label { font-weight: 600; margin-top: 0.6rem; }
input { font: inherit; padding: 0.45rem 0.55rem; border: 1px solid GrayText; border-radius: 0.3rem; }
input[readonly] { border-style: dashed; }
button { font: inherit; padding: 0.45rem 0.9rem; border-radius: 0.3rem; border: 1px solid var(--accent); background: var(--accent); color: white; cursor: pointer; }
button:disabled { opacity: 0.6; cursor: progress; }
button.secondary, button.revoke, button.remove { background: transparent; color: inherit; }
button.remove:disabled { cursor: not-allowed; }
form button { margin-top: 1rem; justify-self: start; }
.hint { font-size: 0.9rem; color: GrayText; margin: 0; }
[role="alert"] { color: var(--danger); font-weight: 600; }
.toolbar { display: flex; gap: 0.6rem; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid color-mix(in srgb, GrayText 40%, transparent); vertical-align: top; }
td:nth-child(3) { word-break: break-word; max-width: 16rem; }
tr[data-live="false"] { color: GrayText; }
[hidden] { display: none !important; }
.buttons { display: flex; flex-wrap: wrap; gap: 0.6rem; margin-top: 1rem; }
form .buttons button { margin-top: 0; }
fieldset { border: none; padding: 0; margin: 0.6rem 0 0; display: grid; gap: 0.2rem; }
legend { font-weight: 600; padding: 0; }
label.choice { font-weight: normal; margin-top: 0.4rem; }
code { font-family: ui-monospace, monospace; font-size: 0.95em; }
.user-code { font-family: ui-monospace, monospace; font-size: 2rem; letter-spacing: 0.15em; margin: 0.5rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-word; }
`;
