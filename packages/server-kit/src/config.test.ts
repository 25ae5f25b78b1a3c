import { ConfigError, readConfig, vars } from './config';

describe('readConfig', () => {
  const spec = {
    LISTEN: vars.address('127.0.0.1:50051'),
    DB: vars.postgresUrl(),
    LEVEL: vars.logLevel('info'),
    TTL: vars.duration('24h'),
    CHUNK: vars.bytes('4MiB', { max: 64 * 1024 * 1024 }),
    N: vars.integer(3, { min: 1, max: 10 }),
  };

  it('applies defaults when variables are unset or empty', () => {
    expect(readConfig(spec, { DB: '', LEVEL: '  ' })).toEqual({
      LISTEN: '127.0.0.1:50051',
      DB: undefined,
      LEVEL: 'info',
      TTL: 24 * 3_600_000,
      CHUNK: 4 * 1024 * 1024,
      N: 3,
    });
  });

  it('parses given values', () => {
    const config = readConfig(spec, { LISTEN: '[::1]:0', DB: 'postgres://u@h:5432/db', LEVEL: 'DEBUG', TTL: '500ms', CHUNK: '64KiB', N: '10' });
    expect(config).toMatchObject({ LISTEN: '[::1]:0', DB: 'postgres://u@h:5432/db', LEVEL: 'debug', TTL: 500, CHUNK: 65536, N: 10 });
  });

  it.each([
    ['LISTEN', 'localhost', /LISTEN: "localhost" is not host:port/],
    ['LISTEN', '127.0.0.1:70000', /LISTEN: .* is not host:port/],
    ['DB', 'mysql://h/db', /DB: has scheme "mysql:" but must be postgres:\/\//],
    ['DB', 'not a url', /DB: is not a URL/],
    ['DB', 'postgres://h:5432', /DB: names no database/],
    ['LEVEL', 'loud', /LEVEL: "loud" is not one of fatal, error/],
    ['TTL', '10 minutes', /TTL: "10 minutes" is not a duration/],
    ['CHUNK', '1TB', /CHUNK: "1TB" is not a size/],
    ['CHUNK', '128MiB', /CHUNK: must be at most 67108864 bytes/],
    ['N', '0', /N: must be at least 1/],
    ['N', '2.5', /N: "2.5" is not a whole number/],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    let error: unknown;
    try {
      readConfig(spec, { [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    expect((error as ConfigError).message).toMatch(message);
  });
});
