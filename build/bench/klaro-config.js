// Klaro 0.7, configured like the module's demo site.
window.klaroConfig = {
  lang: "zh",
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  translations: {
    zh: {
      consentNotice: {
        title: "我们重视您的隐私",
        description: "我们使用 Cookie 和匿名标识符来保障网站运行；在您同意后，也会用于记住您的偏好、统计访问情况和衡量推广效果。您可以随时在页面底部的“Cookie 设置”中更改或撤回您的选择。",
        learnMore: "偏好设置"
      },
      ok: "全部接受",
      decline: "全部拒绝",
      purposes: { functional: "偏好", analytics: "统计分析", marketing: "推广" },
      necessary: { title: "必要", description: "保障登录、安全和您的 Cookie 选择本身，没有它们网站无法正常运行，因此无法关闭。" },
      preferences: { title: "偏好", description: "记住您选择的语言和界面设置，省去重复设置的步骤。" },
      analytics: { title: "统计分析", description: "以匿名标识符统计访问量和功能使用情况，帮助我们改进服务。" },
      marketing: { title: "推广", description: "衡量推广活动的效果，并在其他网站上向您展示相关的亿洽广告。" }
    }
  },
  services: [
    { name: "necessary", purposes: ["functional"], required: true },
    { name: "preferences", purposes: ["functional"] },
    { name: "analytics", purposes: ["analytics"] },
    { name: "marketing", purposes: ["marketing"] }
  ]
};
