import { useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import type { Upload } from 'tus-js-client';
import { ErrorMessage, Notice } from '../components/Status';
import { REQUEST_LESSON_UPLOAD } from '../graphql/documents';
import type { UploadTicket } from './tus-upload';

type State = { kind: 'idle' } | { kind: 'sending'; sent: number; total: number } | { kind: 'failed'; message: string; canResume: boolean } | { kind: 'done' };

/**
 * "Upload video" for one lesson: asks for a ticket, sends the file with tus (a progress bar while it
 * goes), and after a failure offers to resume where the server stopped. `processing`: the lesson is
 * still UPLOADING or PROCESSING; once it is not, the lesson's own status says how the upload ended, so
 * "being processed" is no longer shown.
 */
export function UploadButton({ lessonId, describedBy, processing }: { lessonId: string; describedBy: string; processing: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const upload = useRef<Upload | undefined>(undefined);
  // where the bar stood before a failure: "Resume upload" goes on from there, not from an empty bar
  const lastProgress = useRef({ sent: 0, total: 0 });
  const [ticket, requestTicket] = useMutation<{ requestLessonUpload: UploadTicket }>(REQUEST_LESSON_UPLOAD);
  const [state, setState] = useState<State>({ kind: 'idle' });
  useEffect(() => () => void upload.current?.abort(), []);

  const send = async (file: File) => {
    lastProgress.current = { sent: 0, total: file.size };
    setState({ kind: 'sending', sent: 0, total: file.size });
    // tus-js-client is loaded when an owner uploads, not by every visitor of the app
    const { startUpload } = await import('./tus-upload');
    upload.current = await startUpload(file, lessonId, async () => (await requestTicket({ lessonId })).data?.requestLessonUpload, {
      onProgress: (sent, total) => {
        lastProgress.current = { sent, total };
        setState({ kind: 'sending', sent, total });
      },
      onSuccess: () => setState({ kind: 'done' }),
      onError: (message, canResume) => setState({ kind: 'failed', message, canResume }),
    });
    // no ticket: the mutation's error is shown below; a refused size was reported through onError
    if (!upload.current) setState((s) => (s.kind === 'sending' ? { kind: 'idle' } : s));
  };
  const resume = () => {
    if (!upload.current) return;
    setState({ kind: 'sending', ...lastProgress.current });
    upload.current.start();
  };

  const busy = state.kind === 'sending' || ticket.fetching;
  return (
    <div className="upload">
      <input
        ref={input}
        type="file"
        accept="video/*"
        hidden
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void send(file);
        }}
      />
      <button type="button" className="secondary" aria-describedby={describedBy} disabled={busy} onClick={() => input.current?.click()}>
        Upload video
      </button>
      {state.kind === 'sending' ? (
        <span className="upload-progress">
          <progress max={state.total || 1} value={state.sent} aria-label="Upload progress" />
          <span>{state.total ? `${Math.floor((state.sent / state.total) * 100)} %` : 'Starting…'}</span>
        </span>
      ) : null}
      {state.kind === 'failed' ? (
        <>
          <ErrorMessage error={state.message} action="The upload failed" />
          {state.canResume && upload.current ? (
            <button type="button" className="secondary" onClick={resume}>
              Resume upload
            </button>
          ) : null}
        </>
      ) : null}
      {state.kind === 'done' && processing ? <Notice>Uploaded: the video is being processed.</Notice> : null}
      <ErrorMessage error={ticket.error} action="Could not start the upload" />
    </div>
  );
}
