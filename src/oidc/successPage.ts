/**
 * The page the browser shows once the login reached us. With gitsign.autoclose (only meaningful with a
 * connector, as in gitsign) it closes its own tab after gitsign.autocloseTimeout seconds (at once when 0 or less, as gitsign's page).
 */
export function successPage(autoclose: boolean, timeoutS: number): string {
  const closing = autoclose
    ? `<p id="closing">This tab closes itself in <span id="n">${timeoutS}</span> seconds.</p>
<script>let n=${timeoutS};if(n<=0)window.close();const t=setInterval(()=>{n-=1;document.getElementById('n').textContent=String(n);if(n<=0){clearInterval(t);window.close();}},1000);</script>`
    : '<p>You may close this tab.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gitsign: signed in</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em}</style></head>
<body><h1>Signed in</h1><p>gitsign has your identity and is signing; return to your terminal.</p>
${closing}
</body></html>
`;
}

export function errorPage(message: string): string {
  const text = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gitsign: login failed</title></head><body><h1>Login failed</h1><p>${text}</p></body></html>\n`;
}
