/** The residents' site's operations, by the operationId of their routes in schemas/routes.ts (`site: true`). */
import type { ApiDeps, OperationInput } from '../api/alerts';
import type { ApiResult } from '../api/http';
import { alertCard, alertPage, alertsPage, alertTipForm, privacyPage, siteAsset } from './alert-routes';
import { alertChannelLink, alertSeen } from './counters';
import {
  confirmForm,
  manageCodeForm,
  manageEndForm,
  managePage,
  manageSessionForm,
  manageSettingsForm,
  subscribeForm,
  subscribePage,
} from './resident-routes';
import { sitePage } from './respond';

/** Every site operation answers in HTML, its failures included (respond.ts, sitePage). */
const OPERATIONS = {
  alertsPage,
  alertPage,
  alertCard,
  alertSeen,
  alertChannelLink,
  alertTipForm,
  subscribePage,
  subscribeForm,
  confirmForm,
  managePage,
  manageCodeForm,
  manageSessionForm,
  manageSettingsForm,
  manageEndForm,
  privacyPage,
  siteAsset,
} satisfies Record<string, (deps: ApiDeps, input: OperationInput) => Promise<ApiResult>>;

export const SITE_OPERATIONS = Object.fromEntries(
  Object.entries(OPERATIONS).map(([id, operation]) => [id, sitePage(operation)]),
) as typeof OPERATIONS;
