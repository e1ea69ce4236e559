/** The billing pages' frame: semantic HTML, one small inline stylesheet, no client-side script. */
import type { Child } from "hono/jsx";
import type { Session } from "../services/sessions/session.js";

const CSS = `
:root{color-scheme:light;--ink:#1a1a1a;--muted:#4a4a4a;--line:#c8c8c8;--accent:#0b5cad;--bg:#fff;--warn:#8a1c00;--ok:#145a14}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header,main,footer{max-width:62rem;margin:0 auto;padding:1rem}header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;border-bottom:1px solid var(--line)}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;margin:0;padding:0}a{color:var(--accent)}a:focus,button:focus,input:focus{outline:3px solid #f0a500;outline-offset:2px}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.cards{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr))}.card{border:1px solid var(--line);border-radius:.5rem;padding:1rem}
.card.current{border:2px solid var(--accent)}.badge{display:inline-block;background:var(--accent);color:#fff;border-radius:1rem;padding:0 .6rem;font-size:.85rem}
meter{width:100%;height:1.2rem}table{border-collapse:collapse;width:100%}.scroll{overflow-x:auto}code{overflow-wrap:anywhere}th,td{text-align:left;padding:.4rem;border-bottom:1px solid var(--line);vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
button,.button{display:inline-block;font:inherit;padding:.5rem 1rem;border-radius:.4rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:var(--accent)}button:disabled{background:#767676;border-color:#767676}
.alert{border-left:.4rem solid var(--warn);background:#fff4f0;padding:.75rem 1rem;margin:1rem 0}.note{border-left:.4rem solid var(--ok);background:#f0f8f0;padding:.75rem 1rem;margin:1rem 0}
.muted{color:var(--muted)}label{display:block;margin:.75rem 0 .25rem;font-weight:600}input[type=email],input[type=password]{font:inherit;padding:.5rem;width:100%;max-width:24rem;border:1px solid #767676;border-radius:.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
`;

export function Layout(props: { title: string; session: Session | null; csrf?: string; children: Child }) {
  const { session } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} — VEXxy Premium billing`}</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <header>
          <a href="/billing">
            <strong>VEXxy Premium</strong>
          </a>
          {session ? (
            <nav aria-label="Billing">
              <ul>
                <li><a href="/billing">Overview</a></li>
                <li><a href="/billing/subscribe">Plans</a></li>
                <li><a href="/billing/credits">Credits</a></li>
                <li><a href="/billing/portal">Payment methods &amp; invoices</a></li>
                <li>
                  <form method="post" action="/billing/logout">
                    <input type="hidden" name="csrf" value={session.csrf} />
                    <button type="submit" class="secondary">Sign out {session.email}</button>
                  </form>
                </li>
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <footer class="muted">Payments are handled by Stripe; card details never reach VEXxy.</footer>
      </body>
    </html>
  );
}

export function Csrf(props: { session: Session }) {
  return <input type="hidden" name="csrf" value={props.session.csrf} />;
}

export function ReadOnlyNote(props: { session: Session }) {
  return props.session.isAdmin ? null : (
    <p class="note" role="note">
      You are signed in as a member: this view is read-only. Ask an organization admin to change the plan or buy credits.
    </p>
  );
}
