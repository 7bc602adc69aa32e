import { useConnection } from '../stores/connection-store';

/**
 * Says plainly what happened to the host (serve): gone — actions are disabled and the page reconnects by itself — or
 * back with a new token, which this page cannot know: then only the new URL gets in.
 */
export function ConnectionBanner() {
  const status = useConnection((s) => s.status);
  const everOpen = useConnection((s) => s.everOpen);
  const where = window.location.host;
  if (status === 'open' || (!everOpen && status === 'connecting')) return null;
  if (status === 'token-rejected') {
    return (
      <div className="banner banner-critical connection-banner" role="alert" aria-label="Connection">
        <div className="banner-body">
          <p className="banner-title">The Clusterdesk host at {where} no longer accepts this page’s token.</p>
          <p>
            It was restarted with a new token. Open the new URL it printed (it ends in <code>#token=…</code>); this page cannot reconnect with the old one.
          </p>
        </div>
      </div>
    );
  }
  const gone = status === 'host-gone' || status === 'closed';
  return (
    <div className="banner connection-banner" role="alert" aria-label="Connection">
      <div className="banner-body">
        <p className="banner-title">{gone ? `The Clusterdesk host at ${where} is gone.` : `Lost the connection to the Clusterdesk host at ${where}.`}</p>
        <p>
          Actions are disabled until it is back.{' '}
          {status === 'closed' ? 'Reload the page to connect again.' : 'This page reconnects by itself as soon as the host answers.'}
        </p>
      </div>
    </div>
  );
}
