import type pg from 'pg';
import { addressKey, parseAddress, parseAliasSource } from './address.js';
import { getDomainByName } from './domains.js';
import { conflict, invalid, isUniqueViolation, notFound } from './errors.js';
import { pageBounds, toPage } from './pagination.js';
import type { Page, PageRequest } from './pagination.js';
import { requireId } from './scope.js';
import type { Scope } from './scope.js';
import { inTransaction } from '@correo/store';

export interface Alias {
  id: string;
  tenantId: string;
  domainId: string;
  /** `user@domain`, or `@domain` for the domain's catch-all. */
  source: string;
  catchAll: boolean;
  /** Local or external addresses, or other aliases (chains are followed on delivery). */
  targets: string[];
  createdAt: Date;
}

export const MAX_ALIAS_TARGETS = 100;

const SELECT = `SELECT a.id, a.tenant_id AS "tenantId", a.domain_id AS "domainId", a.source,
  starts_with(a.source, '@') AS "catchAll", a.created_at AS "createdAt",
  coalesce((SELECT array_agg(t.target ORDER BY t.id) FROM alias_targets t WHERE t.alias_id = a.id), '{}') AS targets
  FROM aliases a`;

function normaliseTargets(targets: readonly string[]): string[] {
  if (!Array.isArray(targets) || targets.length === 0)
    throw invalid('targets', 'an alias needs at least one target');
  if (targets.length > MAX_ALIAS_TARGETS) {
    throw invalid('targets', `an alias has at most ${MAX_ALIAS_TARGETS} targets`);
  }
  const seen = new Set<string>();
  const result: string[] = [];
  targets.forEach((target, index) => {
    const parsed = parseAddress(String(target).trim());
    if (!parsed.ok) throw invalid(`targets[${index}]`, `${JSON.stringify(target)}: ${parsed.error}`);
    const key = addressKey(parsed.value.address);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(parsed.value.address);
    }
  });
  return result;
}

async function replaceTargets(db: pg.PoolClient, aliasId: string, targets: string[]): Promise<void> {
  await db.query('DELETE FROM alias_targets WHERE alias_id = $1', [aliasId]);
  await db.query('INSERT INTO alias_targets (alias_id, target) SELECT $1, unnest($2::text[])', [
    aliasId,
    targets,
  ]);
}

async function selectAlias(db: pg.Pool | pg.PoolClient, scope: Scope, id: string): Promise<Alias> {
  const { rows } = await db.query<Alias>(
    `${SELECT} WHERE a.id = $1 AND ($2::bigint IS NULL OR a.tenant_id = $2)`,
    [id, scope.tenantId],
  );
  if (!rows[0]) throw notFound(`alias ${id} not found`);
  return rows[0];
}

/** An exact alias (`sales@example.test`) or a catch-all (`@example.test`) forwarding to one or more targets. */
export async function createAlias(
  scope: Scope,
  input: { source: string; targets: string[] },
): Promise<Alias> {
  const parsed = parseAliasSource(String(input.source).trim());
  if (!parsed.ok) throw invalid('source', parsed.error);
  const source = parsed.value.kind === 'catch-all' ? `@${parsed.value.domain}` : parsed.value.address.address;
  const domainName = parsed.value.kind === 'catch-all' ? parsed.value.domain : parsed.value.address.domain;
  const domain = await getDomainByName(scope, domainName, 'source');
  const targets = normaliseTargets(input.targets);
  try {
    return await inTransaction(scope.pool, async (db) => {
      if (parsed.value.kind === 'address') {
        const { rowCount } = await db.query('SELECT 1 FROM accounts WHERE lower(address) = $1', [
          addressKey(source),
        ]);
        if (rowCount) throw conflict(`${source} is already an account`, 'source');
      }
      const { rows } = await db.query<{ id: string }>(
        'INSERT INTO aliases (tenant_id, domain_id, source) VALUES ($1, $2, $3) RETURNING id',
        [domain.tenantId, domain.id, source],
      );
      const id = rows[0]!.id;
      await replaceTargets(db, id, targets);
      return selectAlias(db, scope, id);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`the alias ${source} exists`, 'source');
    throw error;
  }
}

export async function listAliases(
  scope: Scope,
  page?: PageRequest,
  filter: { domainId?: string; tenantId?: string } = {},
): Promise<Page<Alias>> {
  const { limit, afterId } = pageBounds(page);
  const { rows } = await scope.pool.query<Alias>(
    `${SELECT} WHERE a.id > $1 AND ($2::bigint IS NULL OR a.tenant_id = $2) AND ($3::bigint IS NULL OR a.domain_id = $3)
      AND ($4::bigint IS NULL OR a.tenant_id = $4)
      ORDER BY a.id LIMIT $5`,
    [afterId, scope.tenantId, filter.domainId ?? null, filter.tenantId ?? null, limit + 1],
  );
  return toPage(rows, limit);
}

export async function getAlias(scope: Scope, id: string): Promise<Alias> {
  requireId(id, 'alias');
  return selectAlias(scope.pool, scope, id);
}

/** Replaces the alias's targets. */
export async function updateAlias(scope: Scope, id: string, patch: { targets?: string[] }): Promise<Alias> {
  requireId(id, 'alias');
  if (patch.targets === undefined) return getAlias(scope, id);
  const targets = normaliseTargets(patch.targets);
  return inTransaction(scope.pool, async (db) => {
    const { rowCount } = await db.query(
      'SELECT 1 FROM aliases WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2) FOR UPDATE',
      [id, scope.tenantId],
    );
    if (!rowCount) throw notFound(`alias ${id} not found`);
    await replaceTargets(db, id, targets);
    return selectAlias(db, scope, id);
  });
}

export async function deleteAlias(scope: Scope, id: string): Promise<void> {
  requireId(id, 'alias');
  const { rowCount } = await scope.pool.query(
    'DELETE FROM aliases WHERE id = $1 AND ($2::bigint IS NULL OR tenant_id = $2)',
    [id, scope.tenantId],
  );
  if (!rowCount) throw notFound(`alias ${id} not found`);
}
