// The page's microphone and camera (getUserMedia), with errors the user can read. Shared by calls
// between two people (calls.js) and group calls (room.js), which use one stream for every link.

export async function getMedia(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('This browser cannot use a microphone here (it needs https or localhost).');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: !!video });
  } catch (e) {
    if (e.name === 'NotAllowedError') throw new Error('The browser did not allow the microphone' + (video ? ' or camera.' : '.'));
    if (e.name === 'NotFoundError') throw new Error(video ? 'No microphone or camera found.' : 'No microphone found.');
    throw new Error(`Cannot use the microphone${video ? ' or camera' : ''}: ${e.message}`);
  }
}

// The camera alone (turned on during an audio call).
export async function getCamera() {
  try {
    return await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (e) {
    throw new Error(`Cannot use the camera: ${e.message}`);
  }
}

export function stopStream(s) { if (s) for (const t of s.getTracks()) t.stop(); }
