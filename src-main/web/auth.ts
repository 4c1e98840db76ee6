// Web-mode access control: a random token per server (printed once in the URL, then kept in an HttpOnly
// SameSite=Strict cookie), compared in constant time; only the server's own origin and Host are accepted
// (DNS rebinding and cross-site WebSocket hijacking both fail these checks).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export class TokenCheck {
  private readonly digest: Buffer;

  constructor(readonly token: string) {
    this.digest = createHash('sha256').update(token).digest();
  }

  /**
   * Constant time in the candidate's content: both sides are hashed to 32 bytes first, so neither the
   * length nor a common prefix of a wrong token changes the comparison's timing.
   */
  matches(candidate: string | null | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 256) return false;
    return timingSafeEqual(createHash('sha256').update(candidate).digest(), this.digest);
  }
}

/** Name of the cookie holding the token; per port, since cookies do not separate ports. */
export function cookieName(port: number): string {
  return `vramscope_token_${port}`;
}

/** The value of one cookie from a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The Host header values the server answers to (loopback by address or by name, on its port). */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** The origins whose pages may open the API WebSocket: the server's own. */
export function allowedOrigins(port: number): string[] {
  return allowedHosts(port).map((host) => `http://${host}`);
}
