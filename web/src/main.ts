// The whole app is one small bundle: every page registers its element here.
import './shoal-app.ts';
