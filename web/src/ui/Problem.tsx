import { problemWords } from "../api/problem";
import { useI18n } from "../i18n";

/** An error in words: a headline in the reader's language and the API's detail. */
export function ProblemBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  const { title, detail } = problemWords(error, t);
  return (
    <div class="problem" role="alert">
      <p class="problem-title">{title}</p>
      {detail && <p class="problem-detail">{detail}</p>}
      {onRetry && (
        <button type="button" class="secondary" onClick={onRetry}>
          {t("action.retry")}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p class="loading" role="status">
      {t("common.loading")}
    </p>
  );
}
