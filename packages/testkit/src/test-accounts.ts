/** The mail users of the protocol tests: a login, a password, a user id and an address each. */

export interface TestAccount {
  login: string;
  password: string;
  id: string;
  address: string;
}

export const ALICE: TestAccount = {
  login: 'alice',
  password: 'wonder land',
  id: 'u-alice',
  address: 'alice@example.test',
};
export const BOB: TestAccount = {
  login: 'bob',
  password: 'builder',
  id: 'u-bob',
  address: 'bob@example.test',
};
export const CAROL: TestAccount = {
  login: 'carol',
  password: 'c4rol!',
  id: 'u-carol',
  address: 'carol@example.test',
};
