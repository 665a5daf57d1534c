// The HTML shell of a webview: strict CSP with a nonce, scripts and styles only from the extension.

import * as vscode from 'vscode';
import crypto from 'node:crypto';

export function nonce(): string {
  return crypto.randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function html(webview: vscode.Webview, extensionUri: vscode.Uri, opts: { title: string; script: string; styles: string[]; body: string }): string {
  const n = nonce();
  const uri = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...parts)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${n}'`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
  ].join('; ');
  const styles = opts.styles.map((s) => `<link rel="stylesheet" href="${uri(...s.split('/'))}">`).join('\n  ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  ${styles}
  <title>${opts.title}</title>
</head>
<body>
${opts.body}
<script nonce="${n}" src="${uri(...opts.script.split('/'))}"></script>
</body>
</html>`;
}
