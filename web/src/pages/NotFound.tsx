import { useI18n } from "../i18n";
import { useTitle } from "../ui/hooks";

export function NotFound() {
  const { t } = useI18n();
  useTitle(t("notFound.title"));
  return (
    <section>
      <h1>{t("notFound.title")}</h1>
      <p>{t("notFound.lead")}</p>
      <p>
        <a href="#/">{t("nav.tales")}</a>
      </p>
    </section>
  );
}
