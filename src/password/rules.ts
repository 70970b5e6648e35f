/**
 * The admin password rules, shared by `generate_password` and the CLI: latin1 only, 6 to 32
 * characters, and at least one digit, lower-case letter, upper-case letter and special character.
 */

export const SPECIAL_CHARACTERS = "~!@#%^*_+=-";
export const MIN_PASSWORD_LENGTH = 6;
export const MAX_PASSWORD_LENGTH = 32;

/** True when every character of `text` is in the latin1 (ISO-8859-1) range. */
export function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return false;
  }
  return true;
}

export function isValidPasswordLength(password: string): boolean {
  return password.length >= MIN_PASSWORD_LENGTH && password.length <= MAX_PASSWORD_LENGTH;
}

/** The rules `password` breaks, as sentences; empty when it is acceptable. */
export function passwordRuleViolations(password: string): string[] {
  const failures: string[] = [];
  if (!isLatin1(password)) failures.push("only latin1 characters are allowed");
  if (!isValidPasswordLength(password)) {
    failures.push(
      `the length must be between ${MIN_PASSWORD_LENGTH} and ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (!/[0-9]/.test(password)) failures.push("it must contain at least one digit");
  if (!/[a-z]/.test(password)) failures.push("it must contain at least one lower-case letter");
  if (!/[A-Z]/.test(password)) failures.push("it must contain at least one upper-case letter");
  if (![...password].some((ch) => SPECIAL_CHARACTERS.includes(ch))) {
    failures.push(`it must contain at least one of the special characters ${SPECIAL_CHARACTERS}`);
  }
  return failures;
}

/** A bcrypt hash for settings.conf's PASSWORD. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "bcrypt", cost: 12 });
}
