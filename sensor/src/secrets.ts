/**
 * Credentials inside URLs (`http://user:password@host`): one pattern, used by the logger, the error printer, the
 * configuration printer and the output's own description, so no path shows a password the others would hide.
 */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

/** The text with every `user:password@` in a URL replaced by `user:(redacted)@`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:(redacted)@');
}

/** The user name a URL carries credentials for, or undefined (an unparsable URL carries none we would send). */
export function urlCredentialUser(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.username || u.password ? decodeURIComponent(u.username) : undefined;
  } catch {
    return undefined;
  }
}
