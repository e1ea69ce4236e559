/** The billing pages' content. Pure views: data in, HTML out. */
import type { AccountView } from "../services/billing/getAccount.js";
import type { BillingEventView } from "../services/billing/listBillingEvents.js";
import type { CreditPack } from "../env.js";
import { TIERS, getTier, type TierName } from "../lib/tiers.js";
import { formatMoney } from "../services/stripe/catalog.js";
import type { Session } from "../services/sessions/session.js";
export interface RecentJob {
  id: string;
  status: string;
  image_ref: string;
  created_at: string;
}
import { Csrf, Layout, ReadOnlyNote } from "./layout.js";

const day = (iso: string) => iso.slice(0, 10);
const num = (n: number) => n.toLocaleString("en-US");
const FEATURE_NAMES: Record<string, string> = {
  basic_analysis: "Basic analysis",
  vex_generation: "VEX generation",
  reachability_analysis: "Reachability analysis",
  security_fuzzing: "Security fuzzing",
  priority_support: "Priority support",
  dedicated_support: "Dedicated support",
  custom_integrations: "Custom integrations",
};

function Usage(props: { label: string; used: number; limit: number | null; unit: string }) {
  const { used, limit } = props;
  const id = `usage-${props.unit}`;
  return (
    <div>
      <h3 id={id} style="font-size:1rem;margin:.75rem 0 .25rem">{props.label}</h3>
      {limit === null ? (
        <p>{num(used)} {props.unit} used — unlimited on this plan</p>
      ) : (
        <>
          <meter aria-labelledby={id} min={0} max={limit} low={limit * 0.8} high={limit * 0.95} optimum={0} value={Math.min(used, limit)}>
            {num(used)} of {num(limit)}
          </meter>
          <p>
            {num(used)} of {num(limit)} {props.unit} used ({Math.round((used / Math.max(limit, 1)) * 100)}%)
          </p>
        </>
      )}
    </div>
  );
}

function StatusAlert(props: { account: AccountView }) {
  const { status } = props.account;
  if (status === "active" || status === "trialing") return null;
  const why =
    status === "past_due" || status === "unpaid"
      ? <>The last payment failed, so new analyses are paused. <a href="/billing/portal">Update the payment method</a> to resume.</>
      : <>New analyses are paused. <a href="/billing/subscribe">Choose a plan</a> to resume.</>;
  return (
    <div class="alert" role="alert">
      <strong>Subscription {status.replace("_", " ")}.</strong> {why}
    </div>
  );
}

export function OverviewPage(props: { session: Session; account: AccountView; events: BillingEventView[]; jobs: RecentJob[] | null }) {
  const { account: a, session } = props;
  const tier = getTier(a.tier);
  return (
    <Layout title="Billing overview" session={session}>
      <StatusAlert account={a} />
      <section aria-labelledby="plan">
        <h2 id="plan">Plan</h2>
        <dl>
          <dt>Plan</dt>
          <dd data-testid="tier">{tier.tier[0]!.toUpperCase() + tier.tier.slice(1)}</dd>
          <dt>Status</dt>
          <dd data-testid="status">
            {a.status.replace("_", " ")}
            {a.cancel_at ? ` — cancels on ${day(a.cancel_at)}` : a.cancel_at_period_end ? " — cancels at the end of this period" : ""}
            {a.pending_tier && a.pending_tier_at ? ` — changes to ${a.pending_tier[0]!.toUpperCase() + a.pending_tier.slice(1)} on ${day(a.pending_tier_at)}` : ""}
          </dd>
          <dt>Current period</dt>
          <dd>{day(a.current_period_start)} to {day(a.current_period_end)}</dd>
          {a.trial_end ? (<><dt>Trial ends</dt><dd>{day(a.trial_end)}</dd></>) : null}
          <dt>Monthly limits</dt>
          <dd data-testid="limits">
            {a.monthly_analysis_limit === null ? "Unlimited analyses" : `${num(a.monthly_analysis_limit)} analyses`},{" "}
            {a.monthly_credit_limit === null ? "unmetered credits" : `${num(a.monthly_credit_limit)} credits`}
          </dd>
        </dl>
        <p><a href="/billing/subscribe">Compare plans</a></p>
      </section>
      <section aria-labelledby="usage">
        <h2 id="usage">Usage this period</h2>
        <Usage label="Analyses" used={a.current_period_analyses} limit={a.monthly_analysis_limit} unit="analyses" />
        <Usage label="Credits" used={a.current_period_credits_used} limit={a.monthly_credit_limit} unit="credits" />
      </section>
      <section aria-labelledby="balance">
        <h2 id="balance">Credit balance</h2>
        <p><strong data-testid="balance">{num(a.balance)}</strong> credits: {num(a.grant_remaining)} from this period's plan grant and {num(a.purchased_balance)} purchased{a.held ? `; ${num(a.held)} reserved by running analyses (${num(a.available)} available)` : ""}.</p>
        <p><a href="/billing/credits">Buy credits</a></p>
      </section>
      <section aria-labelledby="events">
        <h2 id="events">Recent billing events</h2>
        {props.events.length === 0 ? <p class="muted">No billing events yet.</p> : (
          <div class="scroll" role="region" aria-labelledby="events" tabindex={0}>
          <table>
            <caption class="muted" style="text-align:left">Newest first</caption>
            <thead><tr><th scope="col">Date</th><th scope="col">Event</th><th scope="col">Description</th><th scope="col" class="num">Credits</th><th scope="col" class="num">Balance after</th></tr></thead>
            <tbody>
              {props.events.map((e) => (
                <tr>
                  <td>{day(e.created_at)}</td>
                  <td>{e.event_type.replace(/_/g, " ")}</td>
                  <td>{e.description}</td>
                  <td class="num">{e.credits_amount > 0 ? `+${num(e.credits_amount)}` : num(e.credits_amount)}</td>
                  <td class="num">{num(e.balance_after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        )}
      </section>
      <section aria-labelledby="jobs">
        <h2 id="jobs">Recent analyses</h2>
        {props.jobs === null ? <p class="muted">Analysis history is not available yet.</p> : props.jobs.length === 0 ? <p class="muted">No analyses yet.</p> : (
          <div class="scroll" role="region" aria-labelledby="jobs" tabindex={0}>
          <table>
            <thead><tr><th scope="col">Started</th><th scope="col">Image</th><th scope="col">Status</th></tr></thead>
            <tbody>{props.jobs.map((j) => <tr><td>{day(j.created_at)}</td><td><code>{j.image_ref}</code></td><td>{j.status}</td></tr>)}</tbody>
          </table>
          </div>
        )}
      </section>
    </Layout>
  );
}

export function PlansPage(props: { session: Session; account: AccountView; buyable: TierName[]; returnTo: string | null }) {
  const { session, account: a } = props;
  const current = getTier(a.tier);
  return (
    <Layout title="Plans" session={session}>
      <StatusAlert account={a} />
      <ReadOnlyNote session={session} />
      <p>Upgrades apply at once (Stripe charges the prorated difference); downgrades take effect at the end of the paid period.</p>
      <div class="cards">
        {TIERS.map((t) => {
          const isCurrent = t.tier === a.tier;
          const label = t.priority > current.priority ? "Upgrade" : "Downgrade";
          return (
            <section class={isCurrent ? "card current" : "card"} aria-labelledby={`tier-${t.tier}`}>
              <h2 id={`tier-${t.tier}`}>{t.tier[0]!.toUpperCase() + t.tier.slice(1)} {isCurrent ? <span class="badge">Current plan</span> : null}</h2>
              <p>{t.monthly_analysis_limit === null ? "Unlimited analyses" : `${num(t.monthly_analysis_limit)} analyses`} and {t.monthly_credit_limit === null ? "unmetered credits" : `${num(t.monthly_credit_limit)} credits`} a month</p>
              <ul>{t.features.map((f) => <li>{FEATURE_NAMES[f] ?? f}</li>)}</ul>
              {isCurrent ? null : t.tier === "free" ? (
                <p class="muted">To return to Free, cancel in the <a href="/billing/portal">billing portal</a>.</p>
              ) : !props.buyable.includes(t.tier) ? (
                <p class="muted">Contact sales for this plan.</p>
              ) : session.isAdmin ? (
                <form method="post" action="/billing/subscribe">
                  <Csrf session={session} />
                  <input type="hidden" name="tier" value={t.tier} />
                  {props.returnTo ? <input type="hidden" name="return_to" value={props.returnTo} /> : null}
                  <button type="submit" aria-label={`${label} to ${t.tier}`}>{label}</button>
                </form>
              ) : (
                <button type="button" disabled aria-disabled="true">{label} (admins only)</button>
              )}
            </section>
          );
        })}
      </div>
    </Layout>
  );
}

export function CreditsPage(props: { session: Session; account: AccountView; packs: CreditPack[]; returnTo: string | null }) {
  const { session } = props;
  return (
    <Layout title="Buy credits" session={session}>
      <ReadOnlyNote session={session} />
      <p>Purchased credits never expire and are spent after this period's plan grant. Balance: <strong>{num(props.account.balance)}</strong> credits.</p>
      {props.packs.length === 0 ? <p class="muted">No credit packs are on sale.</p> : (
        <div class="cards">
          {props.packs.map((p) => (
            <section class="card" aria-labelledby={`pack-${p.id}`}>
              <h2 id={`pack-${p.id}`}>{num(p.credits)} credits</h2>
              <p>{formatMoney(p.amount_cents, p.currency)}</p>
              {session.isAdmin ? (
                <form method="post" action="/billing/credits">
                  <Csrf session={session} />
                  <input type="hidden" name="pack" value={p.id} />
                  {props.returnTo ? <input type="hidden" name="return_to" value={props.returnTo} /> : null}
                  <button type="submit" aria-label={`Buy ${p.credits} credits for ${formatMoney(p.amount_cents, p.currency)}`}>Buy</button>
                </form>
              ) : <button type="button" disabled aria-disabled="true">Buy (admins only)</button>}
            </section>
          ))}
        </div>
      )}
    </Layout>
  );
}

export function PortalPage(props: { session: Session }) {
  const { session } = props;
  return (
    <Layout title="Payment methods and invoices" session={session}>
      <ReadOnlyNote session={session} />
      <p>Payment methods, invoices and cancellation are managed in Stripe's customer portal.</p>
      {session.isAdmin ? (
        <form method="post" action="/billing/portal">
          <Csrf session={session} />
          <button type="submit">Open the Stripe customer portal</button>
        </form>
      ) : null}
    </Layout>
  );
}

export function ResultPage(props: { session: Session | null; outcome: "success" | "cancel" | "changed"; message: string; returnTo: string | null }) {
  const title = props.outcome === "cancel" ? "Payment cancelled" : "Thank you";
  return (
    <Layout title={title} session={props.session}>
      <p class={props.outcome === "cancel" ? "alert" : "note"} role="status">{props.message}</p>
      <p>
        {props.returnTo ? <a class="button" href={props.returnTo}>Back to VEXxy</a> : null}{" "}
        <a href="/billing">Billing overview</a>
      </p>
    </Layout>
  );
}

export function LoginPage(props: { csrf: string; next: string; error?: string; email?: string }) {
  return (
    <Layout title="Sign in" session={null}>
      {props.error ? <p class="alert" role="alert" id="login-error">{props.error}</p> : null}
      <form method="post" action="/billing/login" aria-describedby={props.error ? "login-error" : undefined}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ""} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <p><button type="submit">Sign in</button></p>
      </form>
      <p class="muted">Signed in to VEXxy already? Open billing from the VEXxy application to continue without a password.</p>
    </Layout>
  );
}

export function ErrorPage(props: { session: Session | null; status: number; message: string }) {
  return (
    <Layout title={props.status === 403 ? "Not allowed" : props.status === 401 ? "Sign-in needed" : "Something went wrong"} session={props.session}>
      <p class="alert" role="alert">{props.message}</p>
      <p><a href="/billing">Billing overview</a></p>
    </Layout>
  );
}

/**
 * A Stripe call failed: what happened in words (unreachable, or the reason Stripe declined), and a
 * button that sends the same form again.
 */
export function StripeUnavailablePage(props: { session: Session; action: string; fields: Record<string, string>; declined: string | null }) {
  return (
    <Layout title={props.declined ? "Stripe declined the request" : "Payments are unavailable right now"} session={props.session}>
      <p class="alert" role="alert">
        {props.declined
          ? `${props.declined}. Nothing was charged and your plan is unchanged.`
          : "We could not reach Stripe, our payment provider, just now. Nothing was charged and your plan is unchanged."}
      </p>
      <p>This is usually brief. Try again in a moment; if it keeps happening, your credits and analyses are unaffected meanwhile.</p>
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.session.csrf} />
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit">Try again</button>
      </form>
      <p>
        <a href="/billing">Billing overview</a>
      </p>
    </Layout>
  );
}
