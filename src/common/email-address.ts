/**
 * Emails compare after ASCII-only lower-casing. Unicode case mapping would fold a look-alike into
 * someone else's address (`\u212Aate@…`, with a Kelvin sign, lower-cases to `kate@…`), so only A-Z change.
 */
export const asciiLowerCase = (text: string): string => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/** The one form an email is stored, listed (ADMIN_EMAILS) and looked up in. */
export const normalizeEmail = (email: string): string => asciiLowerCase(email.trim());
