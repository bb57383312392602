import { useApp } from "../app-context";
import { useI18n } from "../i18n";
import { href } from "../router";
import { useLoad, useTitle } from "../ui/hooks";
import { Loading, ProblemBox } from "../ui/Problem";

export function MyTales() {
  const { t, date } = useI18n();
  const { api } = useApp();
  useTitle(t("tales.title"));
  const tales = useLoad((signal) => api.get("/v1/tales", { signal }), []);
  return (
    <section>
      <div class="row spread">
        <h1>{t("tales.title")}</h1>
        <a class="button" href="#/new">
          {t("nav.new")}
        </a>
      </div>
      {tales.error ? (
        <ProblemBox error={tales.error} onRetry={tales.reload} />
      ) : !tales.data ? (
        <Loading />
      ) : tales.data.tales.length === 0 ? (
        <p class="empty">{t("tales.empty")}</p>
      ) : (
        <ul class="tale-list">
          {tales.data.tales.map((tale) => (
            <li key={tale.id} class="card">
              <a href={href({ page: "tale", id: tale.id })} class="tale-link">
                {tale.title || t("tale.untitled")}
              </a>
              <p class="meta">
                <span class={`badge status-${tale.status}`}>{t(`status.${tale.status}` as "status.completed")}</span>{" "}
                {tale.status !== "completed" && tale.status !== "failed" && tale.status !== "cancelled" && (
                  <span>{t("progress.percent", { n: tale.progress })} · </span>
                )}
                {t("tales.shots", { n: tale.shot_count })} · {date(tale.created_at)}
              </p>
              {tale.status === "failed" && tale.error_reason && <p class="shot-error">{tale.error_reason}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
