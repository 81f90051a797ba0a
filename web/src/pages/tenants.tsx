import { api, ok, type Schemas } from '../api';
import { Empty, Loading, time, useAsync } from '../ui';

export function TenantsPage() {
  const list = useAsync(() => ok(api.GET('/v1/admin/tenants', { params: { query: { limit: 100 } } })), []);
  return (
    <>
      <h1>Tenants</h1>
      <Loading state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No tenant yet.</Empty>
          ) : (
            <ul class="cards">
              {(page.data as Schemas['TenantDto'][]).map((t) => (
                <li key={t.id} class="card">
                  <strong>{t.name}</strong> <code>{t.id}</code> <span class="hint">{time(t.created_at)}</span>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
    </>
  );
}
