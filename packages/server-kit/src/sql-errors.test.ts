import { status } from '@grpc/grpc-js';
import { GriotError, notFound } from './errors';
import { translateSqlError, withSqlErrors } from './sql-errors';

const pgError = (code: string, detail?: string) => Object.assign(new Error(`driver says ${code}`), { code, detail });
const context = { resourceType: 'Package', name: 'abc' };

describe('translateSqlError', () => {
  it.each([
    ['23505', status.ALREADY_EXISTS, 'PACKAGE_ALREADY_EXISTS'],
    ['23503', status.FAILED_PRECONDITION, 'REFERENCE_MISSING'],
    ['22P02', status.INVALID_ARGUMENT, 'INVALID_VALUE'],
    ['22021', status.INVALID_ARGUMENT, 'INVALID_VALUE'],
  ])('maps SQLSTATE %s to %s', (code, grpcCode, reason) => {
    const mapped = translateSqlError(pgError(code, 'Key (package_id)=(abc) already exists.'), context);
    expect(mapped).toBeInstanceOf(GriotError);
    expect(mapped).toMatchObject({ code: grpcCode, reason });
  });

  it('leaves other errors and typed errors unchanged', () => {
    const other = pgError('40001');
    expect(translateSqlError(other, context)).toBe(other);
    const typed = notFound('Package', 'abc');
    expect(translateSqlError(typed, context)).toBe(typed);
  });

  it('translates what a query throws', async () => {
    await expect(withSqlErrors(context, async () => Promise.reject(pgError('23505')))).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(withSqlErrors(context, async () => 42)).resolves.toBe(42);
  });
});
