/** The key used when none is configured outside production; pseudonyms made with it are not secret. */
export const DEVELOPMENT_PSEUDONYM_KEY = 'angelis-development-only-pseudonym-key';
