/** Member-facing texts, in the member's language; Chinese unless the member chose English. */

const english = (language: string) => language.toLowerCase().startsWith('en');

/** The expiry nudge (quick options, warnings, pointsExpiring), e.g. 您有300积分将于3天后过期,快来兑换吧! */
export function expiryWarningText(points: number, daysLeft: number, language: string): string {
  if (english(language)) {
    return daysLeft <= 0 ? `${points} points expire today. Redeem them now!` : `${points} points expire in ${daysLeft} day${daysLeft === 1 ? '' : 's'}. Redeem them now!`;
  }
  return daysLeft <= 0 ? `您有${points}积分将于今天过期,快来兑换吧!` : `您有${points}积分将于${daysLeft}天后过期,快来兑换吧!`;
}

export function expiryWarningTitle(language: string): string {
  return english(language) ? 'Points expiring soon' : '积分即将过期';
}

// ── tier lifecycle (issue 17; the seed's LevelProtectionService wording) ──

const yuan = (amount: string) => amount.replace(/\.00$/, '');

export function tierUpgradedTexts(tierName: string, multiplier: number, language: string) {
  return english(language)
    ? { title: `Welcome to ${tierName}`, body: `You are now ${tierName}: purchases earn ×${multiplier} points.` }
    : { title: `恭喜升级为${tierName}`, body: `您已升级为${tierName}，消费积分享 ${multiplier} 倍。` };
}

/** 恭喜!您已满足保级条件,等级有效期延长1年 */
export function tierKeptText(language: string): string {
  return english(language) ? 'Congratulations! You have kept your tier: it is valid for one more year.' : '恭喜!您已满足保级条件,等级有效期延长1年';
}

/** 还需消费¥X即可保级,当前等级有效期剩余N天 */
export function tierKeepGapText(gap: string, daysLeft: number, language: string): string {
  return english(language)
    ? `Spend ¥${yuan(gap)} more to keep your tier; it stays valid for ${daysLeft} more day${daysLeft === 1 ? '' : 's'}.`
    : `还需消费¥${yuan(gap)}即可保级,当前等级有效期剩余${daysLeft}天`;
}

export function tierTitles(language: string) {
  return english(language)
    ? { kept: 'Tier kept', grace: 'Your tier is in its grace period', graceEnding: 'Your tier grace period ends soon', lowered: 'Your tier has changed', protection: 'Tier protection' }
    : { kept: '会员等级已保级', grace: '会员等级进入缓冲期', graceEnding: '会员等级缓冲期即将结束', lowered: '会员等级已调整', protection: '特殊保级申请' };
}

export function tierLoweredText(tierName: string, language: string): string {
  return english(language) ? `Your tier is now ${tierName}. Spend to climb back.` : `您的会员等级已调整为${tierName},继续消费即可重新升级。`;
}

export function protectionTexts(language: string) {
  return english(language)
    ? {
        submitted: 'Application received: we will contact you within 3 working days.',
        approved: 'Your tier protection was approved: your tier is valid for one more year.',
        rejected: 'Your tier protection application was not approved.',
      }
    : { submitted: '申请已提交,我们将在3个工作日内联系您', approved: '特殊保级申请已通过,等级有效期延长1年', rejected: '很抱歉,您的特殊保级申请未通过' };
}
