import { trustHostAndRetry } from '../stores/actions';
import { useOperations } from '../stores/operations-store';
import { Dialog } from './Dialog';

/** Asked when SSH meets a host key it has never seen: show the fingerprint, trust it, retry. */
export function HostKeyDialog() {
  const prompt = useOperations((s) => s.hostKeyPrompt);
  if (!prompt) return null;
  const close = () => useOperations.getState().askHostKey(null);
  const { host, port, fingerprint } = prompt.info;
  return (
    <Dialog
      title="Unknown host key"
      onClose={close}
      actions={
        <>
          <button type="button" onClick={close} autoFocus>
            Cancel
          </button>
          <button type="button" className="primary" onClick={() => void trustHostAndRetry()}>
            Trust this key
          </button>
        </>
      }
    >
      <p>
        Clusterdesk has not connected to <strong className="mono">{port === 22 ? host : `${host}:${port}`}</strong> before. Its host key fingerprint is:
      </p>
      <p className="fingerprint mono">{fingerprint}</p>
      <p>
        Compare it with the fingerprint the machine's administrator gives you (for example from <code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code>).
        Trust it only if they match; the operation is retried afterwards.
      </p>
    </Dialog>
  );
}
