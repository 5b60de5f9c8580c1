import { periodAt } from '../platform/time';
import { ChallengeMetric, TaskFrequency } from '../tasks/tasks.entity';
import type { TaskFields } from '../tasks/tasks.service';
import type { ChallengeFields } from '../tasks/challenge.service';

/**
 * The demo task wall for `npm start`. The daily check-in is the checkIn mutation itself, not a
 * task; these are what a mall asks of its members besides: some a member claims in the app,
 * the others a partner reports (a review written, an order placed) through recordTaskCompletion.
 */
export function demoTasks(): TaskFields[] {
  return [
    {
      code: 'share-mall',
      name: '分享积分商城',
      description: '把积分商城分享给微信好友或朋友圈,每天可领一次。',
      points: 10,
      frequency: TaskFrequency.DAILY,
      selfClaimable: true,
    },
    {
      code: 'browse-new-arrivals',
      name: '逛逛新品专区',
      description: '浏览新品专区满 15 秒,每天可领一次。',
      points: 5,
      frequency: TaskFrequency.DAILY,
      selfClaimable: true,
    },
    {
      code: 'write-review',
      name: '发表商品评价',
      description: '确认收货后发表带图评价,审核通过后由商家发放,每天一次。',
      points: 20,
      frequency: TaskFrequency.DAILY,
      selfClaimable: false,
    },
    {
      code: 'complete-profile',
      name: '完善个人资料',
      description: '补全生日、性别和收货地址,仅限一次。',
      points: 50,
      frequency: TaskFrequency.ONCE,
      selfClaimable: true,
    },
    {
      code: 'follow-official-account',
      name: '关注官方公众号',
      description: '关注品牌官方公众号,及时获取会员活动,仅限一次。',
      points: 30,
      frequency: TaskFrequency.ONCE,
      selfClaimable: true,
    },
    {
      code: 'bind-wechat',
      name: '绑定微信',
      description: '绑定微信账号,登录更便捷,由账号中心确认后发放,仅限一次。',
      points: 30,
      frequency: TaskFrequency.ONCE,
      selfClaimable: false,
    },
    {
      code: 'weekly-purchase',
      name: '每周下单',
      description: '本周在商城完成一笔实付订单,由商城确认后发放,每周一次(周一零点重置)。',
      points: 40,
      frequency: TaskFrequency.WEEKLY,
      selfClaimable: false,
    },
    {
      code: 'invite-friend-weekly',
      name: '邀请好友',
      description: '本周邀请一位好友注册(好友注册另有邀请奖励),每周一次。',
      points: 20,
      frequency: TaskFrequency.WEEKLY,
      selfClaimable: false,
    },
  ];
}

/**
 * Challenges running this month in the program's calendar: spend 500 (yuan) before the month
 * ends and get 200 points; check in on 7 days of it and get 66. The window is the local month
 * of `now`, so the demo works whenever it is seeded.
 */
export function demoChallenges(now: Date, timeZone: string): ChallengeFields[] {
  const month = periodAt('MONTHLY', now, timeZone);
  return [
    {
      code: `spend-500-${month.key}`,
      name: '本月消费满 500 元',
      description: '本月累计实付满 500 元,额外奖励 200 积分。',
      metric: ChallengeMetric.SPEND,
      target: 500,
      rewardPoints: 200,
      startsAt: month.start!,
      endsAt: month.end!,
    },
    {
      code: `check-in-7-${month.key}`,
      name: '本月签到 7 天',
      description: '本月累计签到 7 天(不必连续),额外奖励 66 积分。',
      metric: ChallengeMetric.CHECK_INS,
      target: 7,
      rewardPoints: 66,
      startsAt: month.start!,
      endsAt: month.end!,
    },
  ];
}
