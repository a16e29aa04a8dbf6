/**
 * The CAP schema, the feed grammars and the corpus of real CAP messages, copied into the repository
 * (test/fixtures/cap, with the corpus's licence) so the tests need nothing outside the clone.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CAP_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'cap');
export const CAP_SCHEMA_DIR = join(CAP_FIXTURES, 'schema');
export const CAP_TESTDATA_DIR = join(CAP_FIXTURES, 'testdata');

/** The OASIS CAP 1.2 XSD as text. */
export const readCapXsd = (): string => readFileSync(join(CAP_SCHEMA_DIR, 'CAP-v1.2.xsd'), 'utf8');
