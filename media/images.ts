// Images attached to a prompt in the panel: the decisions (how large, how many, how they are labelled),
// pure so unit tests can drive them. Reading and scaling the pixels is the webview's (panel.ts).

/**
 * The longest edge an attached image keeps. Anthropic scales anything larger down to this before the
 * model sees it, OpenAI fits high detail into 2048 x 768 tiles and Gemini tiles at 768 px, so sending
 * more pixels costs bytes and tokens for nothing the model would see.
 */
export const MAX_IMAGE_EDGE = 1568;

/** Images with one prompt: a few screenshots; each costs the reservation ~1600 tokens. */
export const MAX_ATTACHMENTS = 4;

/** What the webview reads an image into before it is attached. */
export interface ImageAttachment {
  /** The file's name, or "pasted image". */
  name: string;
  /** data:image/(png|jpeg|gif|webp);base64,... as sent to the model. */
  url: string;
  width: number;
  height: number;
}

/** The size an image is sent at: within MAX_IMAGE_EDGE on its longer side, proportions kept, never enlarged. */
export function fitWithin(width: number, height: number, maxEdge = MAX_IMAGE_EDGE): { width: number; height: number } {
  const scale = Math.min(1, maxEdge / Math.max(width, height, 1));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

const SENDABLE = /^data:image\/(png|jpeg|gif|webp);base64,/;

/** Whether a data: URL can go as it is (a type every provider takes); anything else is redrawn as PNG. */
export function sendable(url: string): boolean {
  return SENDABLE.test(url);
}

/** Bytes of the image a data: URL holds (base64 packs 3 bytes in 4 characters). */
export function imageBytes(url: string): number {
  const comma = url.indexOf(',');
  const data = comma < 0 ? '' : url.slice(comma + 1);
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.floor((data.length * 3) / 4) - padding;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One line for a chip or a tooltip: "screen.png · 1568 × 980 · 412 KB". */
export function describeImage(image: ImageAttachment): string {
  return `${image.name} · ${image.width} × ${image.height} · ${size(imageBytes(image.url))}`;
}
